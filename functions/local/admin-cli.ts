// `vigil admin …`: the master's admin API through the typed client (protocol/client.ts; no
// AWS SDK).
import { parseArgs } from 'node:util';
import { allPages, createVigilClient, type VigilClient, VigilApiError } from '../../protocol/client.ts';
import type { EventType } from '../../protocol/events.ts';
import type { Colour } from '../../protocol/index.ts';

const HELP = `usage: vigil admin [--master URL] [--token TOKEN] [--json] <command>

commands:
  computer add ID [--frequency S]        register a computer; prints its token (shown once) alone on
                                         stdout, so 'vigil admin computer add ID > ID.token' keeps it
  computer set ID --frequency S          change its instantiation frequency
  computer token ID                      issue a new token (the old one stops working)
  computer list [--colour C] | computer show ID
  sr set ID --url U [--periodicity S] [--quota N]   (or: sr set ID URL ...)
  sr list | sr show ID
  partition set ID --computer C --tree T --sr S [--move]   (--move: allow another computer)
  partition list [--tree T] [--computer C] [--colour C] [--crimes] | partition show ID
  partition promises ID                  latest result of every promise, recent reports
  tree show ID
  bang list [--partition P] [--limit N]  newest first (all of them without --limit)
  bang send PARTITION [--message M]      manual bang (admin)
  summary                                colour counts of the fleet (as of the last sweep)
  channel set ID --kind webhook|slack --url URL [--secret S] [--events t1,t2] [--tree T]
                                         where events go; a new webhook without --secret gets
                                         one, printed once alone on stdout
  channel list | channel show ID | channel rm ID   (rm drops its queue)
  silence set ID --computer C|--partition P|--tree T (--until ISO|--for 2h) [--from ISO] --reason R
                                         matching events are recorded, not sent
  silence list [--active] | silence show ID | silence end ID
  event list [--partition P] [--computer C] [--type T] [--limit N]   recorded events, newest first

Lists page through the whole collection (1,000 items a request).
Event types: computer.colour, partition.colour, bang.accepted, bang.rejected,
flapping.started, flapping.stopped. Durations: 90s, 30m, 2h, 1d, 1h30m.

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

const text = { type: 'string' } as const;
const flag = { type: 'boolean' } as const;
const OPTIONS = {
  ...{ master: text, token: text, json: flag, help: { type: 'boolean', short: 'h' } as const },
  ...{ frequency: text, url: text, periodicity: text, quota: text, computer: text, tree: text, sr: text, move: flag },
  ...{ partition: text, limit: text, message: text, colour: text, crimes: flag },
  ...{ kind: text, secret: text, events: text, until: text, for: text, from: text, reason: text, active: flag, type: text },
  // Aliases spelled like the API fields.
  ...{ 'instantiation-frequency': text, 'instantiation-frequency-seconds': text, 'periodicity-seconds': text, 'bang-quota': text, 'bang-quota-per-day': text },
  ...{ 'computer-id': text, 'instance-tree': text, 'instance-tree-id': text, 'software-release': text, 'software-release-id': text },
} as const;

type Parsed = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; strict: true; options: typeof OPTIONS }>>;

/** The flags, aliases folded into their short names. */
function flags(v: Parsed['values']) {
  return {
    ...v,
    frequency: v.frequency ?? v['instantiation-frequency'] ?? v['instantiation-frequency-seconds'],
    periodicity: v.periodicity ?? v['periodicity-seconds'],
    quota: v.quota ?? v['bang-quota'] ?? v['bang-quota-per-day'],
    computer: v.computer ?? v['computer-id'],
    tree: v.tree ?? v['instance-tree'] ?? v['instance-tree-id'],
    sr: v.sr ?? v['software-release'] ?? v['software-release-id'],
  };
}

/** What a command gets: the client, its flags and arguments, and how to print. */
interface Command {
  api: VigilClient;
  o: ReturnType<typeof flags>;
  noun: string;
  verb: string;
  id: string | undefined;
  extra: string[];
  out: (s: string) => void;
  note: (s: string) => void;
  /** Prints `body` as JSON with --json, else the human text. */
  show: (body: unknown, human: () => string) => void;
  /** The command's one id argument (no other argument allowed). */
  requireId: (what: string) => string;
}

const pretty = (body: unknown) => JSON.stringify(body, null, 2);

const COMMANDS: Record<string, (c: Command) => Promise<void>> = {
  'computer add': (c) => putComputer(c, false),
  'computer set': (c) => putComputer(c, true),
  async 'computer token'(c) {
    const r = await c.api.rotateComputerToken(c.requireId('computer ID'));
    if (!c.o.json) c.note(`new token for ${r.computerId} (shown once, the old one stops working) is on stdout`);
    c.show(r, () => r.token);
  },
  async 'computer list'(c) {
    const colour = colourFlag(c.o.colour);
    const computers = await every((cursor) => c.api.listComputers({ cursor, limit: PAGE, ...(colour ? { colour } : {}) }), (p) => p.computers);
    c.show({ computers, nextCursor: null }, () => table(computers, ['computerId', 'colour', 'lastContactAt', 'instantiationFrequencySeconds', 'colourReason']));
  },
  async 'computer show'(c) {
    const r = await c.api.getComputer(c.requireId('computer ID'));
    c.show(r, () => pretty(r));
  },
  async 'sr set'(c) {
    // `sr set ID URL` works as well as `sr set ID --url URL`.
    const positionalUrl = c.o.url === undefined && c.extra.length === 1 ? c.extra.pop() : undefined;
    const sid = c.requireId('software release ID');
    const url = need('url', c.o.url ?? positionalUrl);
    const p = positiveInt('periodicity', c.o.periodicity);
    const q = positiveInt('quota', c.o.quota, 0);
    const r = await c.api.putSoftwareRelease(sid, { url, ...(p === undefined ? {} : { periodicitySeconds: p }), ...(q === undefined ? {} : { bangQuotaPerDay: q }) });
    const sr = r.softwareRelease;
    c.show(sr, () => `software release ${sr.softwareReleaseId} ${r.created ? 'created' : 'updated'}: quota ${sr.bangQuotaPerDay}/day, periodicity ${sr.periodicitySeconds ?? '-'} s`);
  },
  async 'sr list'(c) {
    const softwareReleases = await every((cursor) => c.api.listSoftwareReleases({ cursor, limit: PAGE }), (p) => p.softwareReleases);
    c.show({ softwareReleases, nextCursor: null }, () => table(softwareReleases, ['softwareReleaseId', 'url', 'periodicitySeconds', 'bangQuotaPerDay']));
  },
  async 'sr show'(c) {
    const r = await c.api.getSoftwareRelease(c.requireId('software release ID'));
    c.show(r, () => pretty(r));
  },
  async 'partition set'(c) {
    const pid = c.requireId('partition ID');
    const body = { computerId: need('computer', c.o.computer), instanceTreeId: need('tree', c.o.tree), softwareReleaseId: need('sr', c.o.sr) };
    const r = await c.api.putPartition(pid, body, { move: !!c.o.move });
    const p = r.partition;
    c.show(p, () => `partition ${p.partitionId} ${r.created ? 'created' : 'updated'} on ${p.computerId}, tree ${p.instanceTreeId}, SR ${p.softwareReleaseId}`);
  },
  async 'partition list'(c) {
    const colour = colourFlag(c.o.colour);
    const q = { ...(c.o.tree ? { instanceTreeId: c.o.tree } : {}), ...(c.o.computer ? { computerId: c.o.computer } : {}), ...(colour ? { colour } : {}), ...(c.o.crimes ? { crimes: 'true' as const } : {}) };
    const partitions = await every((cursor) => c.api.listPartitions({ ...q, cursor, limit: PAGE }), (p) => p.partitions);
    c.show({ partitions, nextCursor: null }, () => table(partitions, ['partitionId', 'computerId', 'instanceTreeId', 'colour', 'colourReason']));
  },
  async 'partition show'(c) {
    const r = await c.api.getPartition(c.requireId('partition ID'));
    c.show(r, () => pretty(r));
  },
  async 'partition promises'(c) {
    const r = await c.api.partitionPromises(c.requireId('partition ID'));
    const rows = r.promises.map((p) => ({ name: p.name, failed: p.latest.failed, date: p.latest.date, message: p.latest.message.slice(0, 80) }));
    c.show(r, () => table(rows, ['name', 'failed', 'date', 'message']));
  },
  async 'tree show'(c) {
    const id = c.requireId('instance tree ID');
    const first = await c.api.getInstanceTree(id, { limit: PAGE });
    const partitions = [...first.partitions];
    if (first.nextCursor) partitions.push(...(await every((cursor) => c.api.getInstanceTree(id, { cursor, limit: PAGE }), (p) => p.partitions, first.nextCursor)));
    const r = { ...first, partitions, nextCursor: null };
    c.show(r, () => `tree ${r.instanceTreeId}: ${r.colour} (${r.colourReason})\n${table(r.partitions, ['partitionId', 'computerId', 'colour', 'colourReason'])}`);
  },
  async 'bang list'(c) {
    const limit = positiveInt('limit', c.o.limit);
    const partition = c.o.partition ? { partitionId: c.o.partition } : {};
    const bangs = await every((cursor) => c.api.listBangs({ ...partition, cursor, limit: Math.min(PAGE, limit ?? PAGE) }), (p) => p.bangs, undefined, limit);
    c.show({ bangs, nextCursor: null }, () => table(bangs, ['createdAt', 'partitionId', 'bangId', 'source', 'accepted', 'fanOut', 'fannedOutTo', 'message']));
  },
  async summary(c) {
    const r = await c.api.summary();
    const { computers: k, partitions: p } = r;
    c.show(r, () => `computers: ${k.green} green, ${k.orange} orange, ${k.red} red\npartitions: ${p.green} green, ${p.red} red\nas of ${r.asOf}`);
  },
  async 'bang send'(c) {
    const pid = c.requireId('partition ID');
    const bangId = `manual-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const r = await c.api.bang(pid, { bangId, message: c.o.message ?? 'manual bang', source: 'manual' });
    c.show(r, () => `bang ${r.bangId} accepted: ${r.fannedOutTo} partition(s) will be reprocessed`);
  },
};

/** `90s`, `30m`, `2h`, `1d`, `1h30m` in ms. */
export function parseDuration(v: string): number {
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(v.trim());
  if (!v.trim() || !m) throw new UsageError(`--for must be a duration such as 90s, 30m, 2h, 1d or 1h30m, got '${v}'`);
  const [d, h, min, sec] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number];
  const ms = (((d * 24 + h) * 60 + min) * 60 + sec) * 1000;
  if (ms <= 0) throw new UsageError(`--for must be longer than 0, got '${v}'`);
  return ms;
}

function isoDate(name: string, v: string): string {
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw new UsageError(`--${name} must be a date such as 2025-06-01T18:00:00Z, got '${v}'`);
  return new Date(t).toISOString();
}

async function setChannel(c: Command): Promise<void> {
  const id = c.requireId('channel ID');
  const kind = need('kind', c.o.kind);
  if (kind !== 'webhook' && kind !== 'slack') throw new UsageError(`--kind must be webhook or slack, got '${kind}'`);
  const events = c.o.events?.split(',').map((t) => t.trim()).filter(Boolean);
  const body = {
    kind,
    url: need('url', c.o.url),
    ...(c.o.secret ? { secret: c.o.secret } : {}),
    ...(events?.length ? { events } : {}),
    ...(c.o.tree ? { instanceTreeId: c.o.tree } : {}),
  } as Parameters<VigilClient['putChannel']>[1];
  const r = await c.api.putChannel(id, body);
  const ch = r.channel;
  if (ch.secret) {
    if (!c.o.json) c.note(`channel ${id} created; its signing secret (shown once, keep it) is on stdout`);
    c.show(ch, () => ch.secret as string);
    return;
  }
  c.show(ch, () => `channel ${ch.channelId} ${r.created ? 'created' : 'updated'}: ${ch.kind} → ${ch.url}${ch.events ? ` (${ch.events.join(', ')})` : ''}${ch.instanceTreeId ? ` tree ${ch.instanceTreeId}` : ''}`);
}

async function setSilence(c: Command): Promise<void> {
  const id = c.requireId('silence ID');
  const targets = [
    ['computerId', c.o.computer],
    ['partitionId', c.o.partition],
    ['instanceTreeId', c.o.tree],
  ].filter(([, v]) => v !== undefined) as [string, string][];
  if (targets.length !== 1) throw new UsageError('silence set: exactly one of --computer, --partition, --tree is needed');
  if ((c.o.until === undefined) === (c.o.for === undefined)) throw new UsageError('silence set: one of --until ISO or --for DURATION is needed');
  const startsAt = c.o.from ? isoDate('from', c.o.from) : new Date().toISOString();
  const endsAt = c.o.until ? isoDate('until', c.o.until) : new Date(Date.parse(startsAt) + parseDuration(c.o.for as string)).toISOString();
  const r = await c.api.putSilence(id, { match: Object.fromEntries(targets), startsAt, endsAt, reason: need('reason', c.o.reason) });
  const s = r.silence;
  c.show(s, () => `silence ${s.silenceId} ${r.created ? 'created' : 'updated'}: ${targets[0]?.join(' ')} from ${s.startsAt} until ${s.endsAt}${s.active ? ' (active now)' : ''}`);
}

const NOTIFY_COMMANDS: Record<string, (c: Command) => Promise<void>> = {
  'channel set': setChannel,
  async 'channel list'(c) {
    const channels = await every((cursor) => c.api.listChannels({ cursor, limit: PAGE }), (p) => p.channels);
    const r = { channels, nextCursor: null };
    const rows = channels.map((ch) => ({ ...ch, events: ch.events?.join(',') ?? 'all', last: ch.lastDelivery ? `${ch.lastDelivery.ok ? 'ok' : 'failed'} ${ch.lastDelivery.at}` : null }));
    c.show(r, () => table(rows, ['channelId', 'kind', 'url', 'events', 'instanceTreeId', 'backlog', 'last']));
  },
  async 'channel show'(c) {
    const r = await c.api.getChannel(c.requireId('channel ID'));
    c.show(r, () => pretty(r));
  },
  async 'channel rm'(c) {
    const r = await c.api.deleteChannel(c.requireId('channel ID'));
    c.show(r, () => `channel ${r.channelId} deleted (${r.dropped} queued deliveries dropped)`);
  },
  'silence set': setSilence,
  async 'silence list'(c) {
    const silences = await every((cursor) => c.api.listSilences({ cursor, limit: PAGE, ...(c.o.active ? { active: 'true' as const } : {}) }), (p) => p.silences);
    const r = { silences, nextCursor: null };
    const rows = silences.map((s) => ({ ...s, match: Object.entries(s.match).map(([k, v]) => `${k}=${v}`).join(' ') }));
    c.show(r, () => table(rows, ['silenceId', 'match', 'startsAt', 'endsAt', 'endedAt', 'active', 'reason']));
  },
  async 'silence show'(c) {
    const r = await c.api.getSilence(c.requireId('silence ID'));
    c.show(r, () => pretty(r));
  },
  async 'silence end'(c) {
    const r = await c.api.endSilence(c.requireId('silence ID'));
    c.show(r, () => `silence ${r.silenceId} ended at ${r.endedAt}`);
  },
  async 'event list'(c) {
    const limit = positiveInt('limit', c.o.limit);
    const q = { ...(c.o.partition ? { partitionId: c.o.partition } : {}), ...(c.o.computer ? { computerId: c.o.computer } : {}), ...(limit ? { limit } : {}) };
    const r = await c.api.listEvents({ ...q, ...(c.o.type ? { type: c.o.type as EventType } : {}) });
    const rows = r.events.map((e) => ({
      at: e.event.at,
      type: e.event.type,
      about: 'partitionId' in e.event ? e.event.partitionId : e.event.computerId,
      sent: e.sendable ? (e.deliveries ?? []).map((d) => `${d.channelId}:${d.state ?? d.action}`).join(' ') || '-' : `no (${e.event.silenced ? 'silenced' : `suppressed by ${e.event.suppressed?.by}`})`,
      eventId: e.event.eventId,
    }));
    c.show(r, () => table(rows, ['at', 'type', 'about', 'sent', 'eventId']));
  },
};

/** Items per request of the lists (the API's maximum). */
const PAGE = 1000;

/** Every item of a paged list (at most `max`), from `start`. */
async function every<P extends { nextCursor: string | null }, T>(fetchPage: (cursor: string | undefined) => Promise<P>, items: (p: P) => T[], start?: string, max = Number.POSITIVE_INFINITY): Promise<T[]> {
  const out: T[] = [];
  const pages = allPages((cursor) => fetchPage(cursor ?? start));
  for await (const page of pages) {
    out.push(...items(page));
    if (out.length >= max) return out.slice(0, max);
  }
  return out;
}

const COLOURS: readonly Colour[] = ['green', 'orange', 'red'];
function colourFlag(v: string | undefined): Colour | undefined {
  if (v === undefined) return undefined;
  if (!COLOURS.includes(v as Colour)) throw new UsageError(`--colour must be one of ${COLOURS.join(', ')}, got '${v}'`);
  return v as Colour;
}

async function putComputer(c: Command, set: boolean): Promise<void> {
  const cid = c.requireId('computer ID');
  const frequency = positiveInt('frequency', c.o.frequency);
  if (set && frequency === undefined) throw new UsageError('computer set: --frequency is required');
  const r = await c.api.putComputer(cid, frequency === undefined ? {} : { instantiationFrequencySeconds: frequency });
  if (r.created) {
    if (!c.o.json) c.note(`computer ${r.token.computerId} registered; its token (shown once, keep it) is on stdout`);
    c.show(r.token, () => r.token.token);
    return;
  }
  if (!set) c.note(`vigil admin: computer ${c.id} already exists (updated; its token is unchanged — use 'computer token ${c.id}' for a new one)`);
  c.show(r.computer, () => `computer ${r.computer.computerId}: frequency ${r.computer.instantiationFrequencySeconds} s, ${r.computer.colour}`);
}

export async function main(argv: string[]): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (err) {
    process.stderr.write(`vigil admin: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const o = flags(parsed.values);
  const { positionals } = parsed;
  if (o.help || positionals.length === 0) {
    (o.help ? process.stdout : process.stderr).write(HELP);
    return o.help ? 0 : 2;
  }
  const master = (o.master ?? process.env.VIGIL_MASTER_URL ?? 'http://127.0.0.1:8787').replace(/\/+$/, '');
  const token = o.token ?? process.env.VIGIL_ADMIN_TOKEN;
  const [noun = '', verb = '', id, ...extra] = positionals;
  const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
  const command: Command = {
    api: createVigilClient({
      baseUrl: master,
      // Asked for at the first request, so that usage errors are reported first.
      token: () => {
        if (!token) throw new UsageError('an admin token is needed: --token or VIGIL_ADMIN_TOKEN');
        return token;
      },
      timeoutMs: 30_000,
    }),
    o,
    noun,
    verb,
    id,
    extra,
    out,
    note: (s) => process.stderr.write(`${s}\n`),
    show: (body, human) => out(o.json ? pretty(body) : human()),
    requireId: (what) => {
      if (!id) throw new UsageError(`${noun} ${verb}: missing ${what}`);
      if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
      return id;
    },
  };
  try {
    const run = COMMANDS[`${noun} ${verb}`.trim()] ?? NOTIFY_COMMANDS[`${noun} ${verb}`.trim()];
    if (!run) throw new UsageError(`unknown command '${positionals.join(' ')}'`);
    await run(command);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`vigil admin: ${err.message}\n\n${HELP}`);
      return 2;
    }
    const message = err instanceof VigilApiError && err.status > 0 ? `HTTP ${err.status}: ${err.message}` : (err as Error).message;
    process.stderr.write(`vigil admin: ${message}\n`);
    return 1;
  }
}
