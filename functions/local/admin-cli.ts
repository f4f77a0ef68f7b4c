// `vigil admin …`: an HTTP client of the master's admin API (no AWS SDK).
import { parseArgs } from 'node:util';

const HELP = `usage: vigil admin [--master URL] [--token TOKEN] [--json] <command>

commands:
  computer add ID [--frequency S]        register a computer; prints its token (shown once) alone on
                                         stdout, so 'vigil admin computer add ID > ID.token' keeps it
  computer set ID --frequency S          change its instantiation frequency
  computer token ID                      issue a new token (the old one stops working)
  computer list | computer show ID
  sr set ID --url U [--periodicity S] [--quota N]   (or: sr set ID URL ...)
  sr list | sr show ID
  partition set ID --computer C --tree T --sr S [--move]   (--move: allow another computer)
  partition list [--tree T] | partition show ID | partition promises ID
  tree show ID
  bang list [--partition P] [--limit N]
  bang send PARTITION [--message M]      manual bang (admin)

Flags may also be spelled like the API fields: --instantiation-frequency-seconds,
--periodicity-seconds, --bang-quota-per-day, --computer-id, --instance-tree-id,
--software-release-id.

options:
  --master URL     master URL (default $VIGIL_MASTER_URL or http://127.0.0.1:8787)
  --token TOKEN    admin token (default $VIGIL_ADMIN_TOKEN)
  --json           print the raw JSON answer
  -h, --help       show this help
`;

class UsageError extends Error {}

function positiveInt(name: string, v: string | undefined, min = 1): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${v}'`);
  return Number(v);
}

function need(name: string, v: string | undefined): string {
  if (!v) throw new UsageError(`--${name} is required`);
  return v;
}

function table(rows: Record<string, unknown>[], cols: string[]): string {
  if (rows.length === 0) return '(none)\n';
  const cells = rows.map((r) => cols.map((c) => (r[c] === null || r[c] === undefined ? '-' : String(r[c]))));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return `${[line(cols), ...cells.map(line)].join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        master: { type: 'string' },
        token: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        frequency: { type: 'string' },
        url: { type: 'string' },
        periodicity: { type: 'string' },
        quota: { type: 'string' },
        computer: { type: 'string' },
        tree: { type: 'string' },
        sr: { type: 'string' },
        move: { type: 'boolean' },
        // Aliases spelled like the API fields.
        'instantiation-frequency': { type: 'string' },
        'instantiation-frequency-seconds': { type: 'string' },
        'periodicity-seconds': { type: 'string' },
        'bang-quota': { type: 'string' },
        'bang-quota-per-day': { type: 'string' },
        'computer-id': { type: 'string' },
        'instance-tree': { type: 'string' },
        'instance-tree-id': { type: 'string' },
        'software-release': { type: 'string' },
        'software-release-id': { type: 'string' },
        partition: { type: 'string' },
        limit: { type: 'string' },
        message: { type: 'string' },
      },
    });
  }
  try {
    parsed = parse();
  } catch (err) {
    process.stderr.write(`vigil admin: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  const o = {
    ...v,
    frequency: v.frequency ?? v['instantiation-frequency'] ?? v['instantiation-frequency-seconds'],
    periodicity: v.periodicity ?? v['periodicity-seconds'],
    quota: v.quota ?? v['bang-quota'] ?? v['bang-quota-per-day'],
    computer: v.computer ?? v['computer-id'],
    tree: v.tree ?? v['instance-tree'] ?? v['instance-tree-id'],
    sr: v.sr ?? v['software-release'] ?? v['software-release-id'],
  };
  if (o.help || positionals.length === 0) {
    (o.help ? process.stdout : process.stderr).write(HELP);
    return o.help ? 0 : 2;
  }
  const master = (o.master ?? process.env.VIGIL_MASTER_URL ?? 'http://127.0.0.1:8787').replace(/\/+$/, '');
  const token = o.token ?? process.env.VIGIL_ADMIN_TOKEN;
  const [noun, verb, id, ...extra] = positionals;

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    if (!token) throw new UsageError('an admin token is needed: --token or VIGIL_ADMIN_TOKEN');
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${master}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      throw new Error(`cannot reach the master at ${master}: ${(err as Error).message}`);
    }
    const text = await res.text();
    let parsedBody: any = text;
    try {
      parsedBody = text ? JSON.parse(text) : null;
    } catch {
      // keep text
    }
    if (res.status >= 400) {
      const msg = parsedBody && typeof parsedBody === 'object' && 'message' in parsedBody ? parsedBody.message : text;
      throw new Error(`HTTP ${res.status}: ${msg}`);
    }
    return { status: res.status, body: parsedBody };
  }
  const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
  const show = (body: unknown, human: () => string) => out(o.json ? JSON.stringify(body, null, 2) : human());
  const requireId = (what: string) => {
    if (!id) throw new UsageError(`${noun} ${verb}: missing ${what}`);
    if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
    return encodeURIComponent(id);
  };

  try {
    const cmd = `${noun} ${verb ?? ''}`.trim();
    switch (cmd) {
      case 'computer add':
      case 'computer set': {
        const cid = requireId('computer ID');
        const frequency = positiveInt('frequency', o.frequency);
        if (cmd === 'computer set' && frequency === undefined) throw new UsageError('computer set: --frequency is required');
        const r = await call('PUT', `/v1/computers/${cid}`, frequency === undefined ? {} : { instantiationFrequencySeconds: frequency });
        if (r.status === 201) {
          if (!o.json) process.stderr.write(`computer ${r.body.computerId} registered; its token (shown once, keep it) is on stdout\n`);
          show(r.body, () => r.body.token);
        } else {
          if (cmd === 'computer add') process.stderr.write(`vigil admin: computer ${id} already exists (updated; its token is unchanged — use 'computer token ${id}' for a new one)\n`);
          show(r.body, () => `computer ${r.body.computerId}: frequency ${r.body.instantiationFrequencySeconds} s, ${r.body.colour}`);
        }
        return 0;
      }
      case 'computer token': {
        const r = await call('POST', `/v1/computers/${requireId('computer ID')}/token`);
        if (!o.json) process.stderr.write(`new token for ${r.body.computerId} (shown once, the old one stops working) is on stdout\n`);
        show(r.body, () => r.body.token);
        return 0;
      }
      case 'computer list': {
        const r = await call('GET', '/v1/computers');
        show(r.body, () => table(r.body.computers, ['computerId', 'colour', 'lastContactAt', 'instantiationFrequencySeconds', 'colourReason']));
        return 0;
      }
      case 'computer show': {
        const r = await call('GET', `/v1/computers/${requireId('computer ID')}`);
        show(r.body, () => JSON.stringify(r.body, null, 2));
        return 0;
      }
      case 'sr set': {
        // `sr set ID URL` works as well as `sr set ID --url URL`.
        const positionalUrl = o.url === undefined && extra.length === 1 ? extra.pop() : undefined;
        const sid = requireId('software release ID');
        const body: Record<string, unknown> = { url: need('url', o.url ?? positionalUrl) };
        const p = positiveInt('periodicity', o.periodicity);
        const q = positiveInt('quota', o.quota, 0);
        if (p !== undefined) body.periodicitySeconds = p;
        if (q !== undefined) body.bangQuotaPerDay = q;
        const r = await call('PUT', `/v1/software-releases/${sid}`, body);
        show(r.body, () => `software release ${r.body.softwareReleaseId} ${r.status === 201 ? 'created' : 'updated'}: quota ${r.body.bangQuotaPerDay}/day, periodicity ${r.body.periodicitySeconds ?? '-'} s`);
        return 0;
      }
      case 'sr list': {
        const r = await call('GET', '/v1/software-releases');
        show(r.body, () => table(r.body.softwareReleases, ['softwareReleaseId', 'url', 'periodicitySeconds', 'bangQuotaPerDay']));
        return 0;
      }
      case 'sr show': {
        const r = await call('GET', `/v1/software-releases/${requireId('software release ID')}`);
        show(r.body, () => JSON.stringify(r.body, null, 2));
        return 0;
      }
      case 'partition set': {
        const pid = requireId('partition ID');
        const body = { computerId: need('computer', o.computer), instanceTreeId: need('tree', o.tree), softwareReleaseId: need('sr', o.sr) };
        const r = await call('PUT', `/v1/partitions/${pid}${o.move ? '?move=true' : ''}`, body);
        show(r.body, () => `partition ${r.body.partitionId} ${r.status === 201 ? 'created' : 'updated'} on ${r.body.computerId}, tree ${r.body.instanceTreeId}, SR ${r.body.softwareReleaseId}`);
        return 0;
      }
      case 'partition list': {
        const r = await call('GET', `/v1/partitions${o.tree ? `?instanceTreeId=${encodeURIComponent(o.tree)}` : ''}`);
        show(r.body, () => table(r.body.partitions, ['partitionId', 'computerId', 'instanceTreeId', 'colour', 'colourReason']));
        return 0;
      }
      case 'partition show': {
        const r = await call('GET', `/v1/partitions/${requireId('partition ID')}`);
        show(r.body, () => JSON.stringify(r.body, null, 2));
        return 0;
      }
      case 'partition promises': {
        const r = await call('GET', `/v1/partitions/${requireId('partition ID')}/promises`);
        show(r.body, () =>
          table(
            r.body.promises.map((p: any) => ({ name: p.name, failed: p.latest.failed, date: p.latest.date, message: String(p.latest.message).slice(0, 80) })),
            ['name', 'failed', 'date', 'message'],
          ),
        );
        return 0;
      }
      case 'tree show': {
        const r = await call('GET', `/v1/instance-trees/${requireId('instance tree ID')}`);
        show(r.body, () => `tree ${r.body.instanceTreeId}: ${r.body.colour} (${r.body.colourReason})\n${table(r.body.partitions, ['partitionId', 'computerId', 'colour', 'colourReason'])}`);
        return 0;
      }
      case 'bang list': {
        const qs = new URLSearchParams();
        if (o.partition) qs.set('partitionId', o.partition);
        const limit = positiveInt('limit', o.limit);
        if (limit !== undefined) qs.set('limit', String(limit));
        const r = await call('GET', `/v1/bangs${qs.size ? `?${qs}` : ''}`);
        show(r.body, () => table(r.body.bangs, ['createdAt', 'partitionId', 'bangId', 'source', 'accepted', 'fanOut', 'fannedOutTo', 'message']));
        return 0;
      }
      case 'bang send': {
        const pid = requireId('partition ID');
        const bangId = `manual-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
        const r = await call('POST', `/v1/partitions/${pid}/bang`, { bangId, message: o.message ?? 'manual bang', source: 'manual' });
        show(r.body, () => `bang ${r.body.bangId} accepted: ${r.body.fannedOutTo} partition(s) will be reprocessed`);
        return 0;
      }
      default:
        throw new UsageError(`unknown command '${positionals.join(' ')}'`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`vigil admin: ${err.message}\n\n${HELP}`);
      return 2;
    }
    process.stderr.write(`vigil admin: ${(err as Error).message}\n`);
    return 1;
  }
}
