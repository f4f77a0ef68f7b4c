// check-url-available (slapos.toolbox check_url_available): GET `url`; kept when it answers
// `http-code` (200), or any code with `ignore-code` 1. Keys and defaults as the reference:
// frequency (2), timeout (max(1, min(5, promise-timeout - 1)) s), http-code (200),
// ignore-code (0), allow-redirects (1), verify (0: no TLS verification; 1: the system CAs, or
// the file named by REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE like python-requests), ca-cert-file
// (verify against this CA), cert-file + key-file (client certificate, both needed),
// username + password (basic auth, both needed; else "non-authenticated"). test 1/1, anomaly
// 3/3 as an AnomalyResult. vigil extra: result-count / failure-amount override both.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { PromiseConfig } from '../promise/index.ts';
import { type AnomalyResult, asBool, type Counts, StockPromise, type TestResult } from './base.ts';
import { pyIntOrThrow, pyRepr } from './py.ts';

/** python-requests follows at most 30 redirects. */
const MAX_REDIRECTS = 30;

interface Answer {
  status: number;
  location?: string;
}

/** How requests would refuse the URL (MissingSchema, InvalidSchema, InvalidURL), or undefined. */
export function invalidUrl(url: string): string | undefined {
  if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) return `Invalid URL ${pyRepr(url)}: No scheme supplied. Perhaps you meant https://${url}?`;
  if (!/^https?:/i.test(url)) return `No connection adapters were found for ${pyRepr(url)}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `Invalid URL ${pyRepr(url)}: No host supplied`;
  }
  if (!parsed.hostname) return `Invalid URL ${pyRepr(url)}: No host supplied`;
  return undefined;
}

/** TLS certificate verification failures, as python's ssl module names them. */
function isVerifyError(e: NodeJS.ErrnoException): boolean {
  return /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|VERIFY/.test(e.code ?? '');
}

function isTlsError(e: NodeJS.ErrnoException): boolean {
  return isVerifyError(e) || /^ERR_SSL|^ERR_TLS|EPROTO/.test(e.code ?? '') || /SSL|TLS/.test(e.message);
}

export default class CheckUrlAvailable extends StockPromise {
  private readonly tolerance: { test: Counts; anomaly: Counts };

  constructor(config: PromiseConfig) {
    super(config, 2);
    const extra = this.getConfig('result-count') !== undefined || this.getConfig('failure-amount') !== undefined;
    this.tolerance = {
      test: extra ? this.counts(['result-count'], ['failure-amount'], [1, 1]) : [1, 1],
      anomaly: extra ? this.counts(['result-count'], ['failure-amount'], [3, 3]) : [3, 3],
    };
  }

  override test(): TestResult {
    return this.testOf(this.tolerance.test);
  }

  override anomaly(): AnomalyResult {
    return this.anomalyOf(this.tolerance.anomaly);
  }

  async sense(): Promise<void> {
    const raw = this.getConfig<unknown>('url');
    const url = raw === undefined || raw === null ? 'None' : String(raw);
    const invalid = invalidUrl(url);
    if (invalid) {
      this.logger.error(`ERROR: ${invalid}${raw === undefined || raw === null ? " (config 'url' is not set)" : ''}`);
      return;
    }
    const promiseTimeout = pyIntOrThrow(this.getConfig('promise-timeout', 20), 'promise-timeout');
    const defaultTimeout = Math.max(1, Math.min(5, promiseTimeout - 1));
    const timeoutS = Number(this.getConfig('timeout', defaultTimeout));
    if (!(timeoutS > 0)) throw new Error(`config 'timeout' must be a number of seconds > 0, got ${pyRepr(this.getConfig('timeout'))}`);
    const expected = pyIntOrThrow(this.getConfig('http-code', 200), 'http-code');
    const ignoreCode = pyIntOrThrow(this.getConfig('ignore-code', 0), 'ignore-code') === 1;
    const allowRedirects = asBool(this.getConfig('allow-redirects'), true);
    const username = this.getConfig<string>('username');
    const password = this.getConfig<string>('password');
    const authenticated = Boolean(username) && Boolean(password);
    const headers: Record<string, string> = { 'user-agent': 'vigil check-url-available' };
    if (authenticated) headers['authorization'] = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

    let answer: Answer;
    try {
      const tls = this.tlsOptions();
      let current = new URL(url);
      for (let hops = 0; ; hops++) {
        answer = await request(current, headers, tls, timeoutS);
        if (!allowRedirects || answer.status < 300 || answer.status >= 400 || !answer.location) break;
        if (hops >= MAX_REDIRECTS) throw Object.assign(new Error(`Exceeded ${MAX_REDIRECTS} redirects.`), { code: 'TOO_MANY_REDIRECTS' });
        current = new URL(answer.location, current);
      }
    } catch (err) {
      this.logger.error(this.failureMessage(url, err as NodeJS.ErrnoException & { phase?: string }));
      return;
    }
    const requestType = authenticated ? 'authenticated' : 'non-authenticated';
    if (ignoreCode) this.logger.info(`${requestType} request to ${pyRepr(url)} succeeded (return code ignored)`);
    else if (answer.status === expected) {
      this.logger.info(`${requestType} request to ${pyRepr(url)} succeeded (returned expected code ${expected})`);
    } else this.logger.error(`${requestType} request to ${pyRepr(url)} failed (returned ${answer.status}, expected ${expected})`);
  }

  /** verify / ca-cert-file / cert-file + key-file, as python-requests reads them. */
  private tlsOptions(): https.RequestOptions {
    const caFile = this.getConfig<string>('ca-cert-file');
    const verify = caFile ? true : pyIntOrThrow(this.getConfig('verify', 0), 'verify') !== 0;
    const tls: https.RequestOptions = { rejectUnauthorized: verify };
    const bundle = caFile || (verify ? process.env['REQUESTS_CA_BUNDLE'] || process.env['CURL_CA_BUNDLE'] : undefined);
    if (bundle) tls.ca = readFileSync(bundle);
    const certFile = this.getConfig<string>('cert-file');
    const keyFile = this.getConfig<string>('key-file');
    if (certFile && keyFile) {
      tls.cert = readFileSync(certFile);
      tls.key = readFileSync(keyFile);
    }
    return tls;
  }

  /** The reference's message for a request that got no answer, then what happened. */
  private failureMessage(url: string, e: NodeJS.ErrnoException & { phase?: string }): string {
    const detail = e.code ? `${e.code} ${e.message}` : e.message;
    if (isTlsError(e)) {
      const what = isVerifyError(e) ? `[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: ${detail}` : detail;
      return `ERROR SSL error while accessing ${pyRepr(url)}: ${what}`;
    }
    if (e.code === 'TOO_MANY_REDIRECTS') return `ERROR: ${e.message}`;
    if (e.phase === 'read') return `ERROR: ${e.message}`;
    // refused, unreachable, DNS, connect timeout: requests' ConnectionError
    return `ERROR connection not possible while accessing ${pyRepr(url)}: ${detail}`;
  }
}

function request(url: URL, headers: Record<string, string>, tls: https.RequestOptions, timeoutS: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const isHttps = url.protocol === 'https:';
    const opts: https.RequestOptions = { method: 'GET', headers, timeout: timeoutS * 1000, ...(isHttps ? tls : {}) };
    let connected = false;
    const req = (isHttps ? https : http).request(url, opts, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ...(res.headers.location ? { location: res.headers.location } : {}) }));
      res.on('error', reject);
    });
    req.on('socket', (s) => s.once(isHttps ? 'secureConnect' : 'connect', () => (connected = true)));
    req.on('timeout', () => {
      const port = url.port || (isHttps ? '443' : '80');
      const pool = `${isHttps ? 'HTTPS' : 'HTTP'}ConnectionPool(host=${pyRepr(url.hostname)}, port=${port})`;
      // after the connection: requests' ReadTimeout; before: a ConnectTimeout (a ConnectionError)
      const err = connected
        ? Object.assign(new Error(`${pool}: Read timed out. (read timeout=${timeoutS})`), { phase: 'read' })
        : Object.assign(new Error(`connect timed out after ${timeoutS} s`), { code: 'ETIMEDOUT' });
      req.destroy(err);
    });
    req.on('error', reject);
    req.end();
  });
}
