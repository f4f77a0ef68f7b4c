// check-service-state (slapos.toolbox check_service_state): asks supervisord (XML-RPC
// supervisor.getProcessInfo, as the reference) the state of `service` and compares it with
// `expect` (running | stopped; anything else, or unset, allows any state). Keys and defaults as
// the reference: run-directory (where supervisord's socket is: supervisord.socket, else
// sv.sock; default <partition>/srv/runner/var/run), frequency (2), result-count (3) and
// failure-amount (3) for the anomaly only; test() is the default strict 1/1.
// vigil extras, used when run-directory is not set: server-url (unix:///path/sock or
// http://host:port) or supervisord-config (a supervisord configuration file: its
// [supervisorctl] serverurl or [unix_http_server] file; default <partition>/etc/supervisord.conf
// when it exists).
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import type { PromiseConfig } from '../promise/index.ts';
import { type AnomalyResult, type Counts, StockPromise, type TestResult } from './base.ts';
import { pyErrorRepr, pyRepr } from './py.ts';

type Endpoint = { socketPath: string } | { url: URL };

/** A supervisord XML-RPC fault, shown as python's xmlrpc.client.Fault. */
class Fault extends Error {
  constructor(
    readonly code: number,
    readonly text: string,
  ) {
    super(`<Fault ${code}: ${pyRepr(text)}>`);
  }
}

/** Reference (_getSupervisordSocketPath): the legacy supervisord.socket when present, else sv.sock. */
export function supervisordSocket(runDirectory: string): string {
  const legacy = join(runDirectory, 'supervisord.socket');
  return existsSync(legacy) ? legacy : join(runDirectory, 'sv.sock');
}

function endpointOf(serverUrl: string): Endpoint {
  if (serverUrl.startsWith('unix://')) return { socketPath: serverUrl.slice('unix://'.length) };
  return { url: new URL(serverUrl) };
}

/** Where supervisorctl would talk to, from a supervisord configuration file. */
export function endpointFromConfig(file: string): Endpoint {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.replace(/[;#].*$/, '').trim();
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      current = new Map();
      sections.set(sec[1]!.trim(), current);
    } else if (current && line.includes('=')) {
      const i = line.indexOf('=');
      current.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
    }
  }
  const url = sections.get('supervisorctl')?.get('serverurl');
  if (url) return endpointOf(url);
  const sock = sections.get('unix_http_server')?.get('file');
  if (sock) return { socketPath: sock };
  const port = sections.get('inet_http_server')?.get('port');
  if (port) return { url: new URL(`http://${port.includes(':') ? port : `127.0.0.1:${port}`}`) };
  throw new Error(`${file}: no [supervisorctl] serverurl, [unix_http_server] file or [inet_http_server] port`);
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function xmlUnescape(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

/** A struct member of an XML-RPC answer (string or int). */
function member(xml: string, name: string): string | undefined {
  const re = new RegExp(`<name>${name}</name>\\s*<value>\\s*(?:<(?:string|int|i4)>([\\s\\S]*?)</(?:string|int|i4)>|([^<]*))\\s*</value>`);
  const m = re.exec(xml);
  return m ? xmlUnescape(m[1] ?? m[2] ?? '') : undefined;
}

/** supervisor.getProcessInfo(name) → statename (RUNNING, STOPPED, EXITED...). */
export function getProcessState(endpoint: Endpoint, name: string, timeoutMs: number): Promise<string> {
  const body =
    `<?xml version="1.0"?><methodCall><methodName>supervisor.getProcessInfo</methodName>` +
    `<params><param><value><string>${xmlEscape(name)}</string></value></param></params></methodCall>`;
  const target = 'socketPath' in endpoint ? { socketPath: endpoint.socketPath } : { host: endpoint.url.hostname, port: endpoint.url.port || 80 };
  const auth =
    'url' in endpoint && endpoint.url.username
      ? { authorization: `Basic ${Buffer.from(`${decodeURIComponent(endpoint.url.username)}:${decodeURIComponent(endpoint.url.password)}`).toString('base64')}` }
      : {};
  return new Promise((resolve, reject) => {
    const req = http.request(
      { ...target, path: '/RPC2', method: 'POST', timeout: timeoutMs, headers: { 'content-type': 'text/xml', host: 'localhost', ...auth } },
      (res) => {
        let xml = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          xml += d;
        });
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`supervisord answered HTTP ${res.statusCode}`));
          if (xml.includes('<fault>')) return reject(new Fault(Number(member(xml, 'faultCode')), member(xml, 'faultString') ?? ''));
          const state = member(xml, 'statename');
          if (!state) return reject(new Error('supervisord answered without a statename'));
          resolve(state);
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

export default class CheckServiceState extends StockPromise {
  private readonly anomalyCounts: Counts;

  constructor(config: PromiseConfig) {
    super(config, 2);
    this.anomalyCounts = this.counts(['result-count'], ['failure-amount'], [3, 3]);
  }

  override test(): TestResult {
    return this.testOf([1, 1]);
  }

  override anomaly(): AnomalyResult {
    return this.anomalyOf(this.anomalyCounts);
  }

  /** Where supervisord is, and how to say it in a message. */
  private endpoint(): { endpoint: Endpoint; where: string } {
    const runDirectory = this.getConfig<string>('run-directory');
    const serverUrl = this.getConfig<string>('server-url');
    const confKey = this.getConfig<string>('supervisord-config');
    const conf = confKey || join(this.getPartitionFolder(), 'etc', 'supervisord.conf');
    if (!runDirectory && serverUrl) return { endpoint: endpointOf(serverUrl), where: serverUrl };
    if (!runDirectory && (confKey || existsSync(conf))) return { endpoint: endpointFromConfig(conf), where: conf };
    const sock = supervisordSocket(runDirectory || join(this.getPartitionFolder(), 'srv', 'runner', 'var', 'run'));
    return { endpoint: { socketPath: sock }, where: `unix://${sock}` };
  }

  async sense(): Promise<void> {
    const service = this.getConfig<string | undefined>('service');
    const expect = this.getConfig<unknown>('expect', '');
    if (expect !== 'running' && expect !== 'stopped') {
      this.logger.info(`OK service ${pyRepr(service)} is allowed to be in any state (expect = ${pyRepr(expect)})`);
      return;
    }
    if (!service) {
      this.logger.error('ERROR no service is specified');
      return;
    }
    let where = '';
    try {
      const e = this.endpoint();
      where = e.where;
      const promiseTimeout = Number(this.getConfig('promise-timeout', 20)) || 20;
      const timeoutMs = Math.max(1, Math.min(10, promiseTimeout - 1)) * 1000;
      const state = (await getProcessState(e.endpoint, String(service), timeoutMs)).toLowerCase();
      if (state !== expect) this.logger.error(`ERROR service ${pyRepr(service)} is in state ${pyRepr(state)} (expected ${pyRepr(expect)})`);
      else this.logger.info(`OK service ${pyRepr(service)} is in expected state ${pyRepr(state)}`);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const shown = err instanceof Fault ? err.message : e.code ? pyErrorRepr(e) : `Exception(${pyRepr(e.message)})`;
      this.logger.error(`ERROR ${shown}${where ? ` (supervisord at ${where})` : ''}`);
    }
  }
}
