// check-url-available: url, http-code (200), ignore-code, allow-redirects (true), timeout
// (like the reference: promise-timeout - 1 s, between 1 and 5 s), verify (false),
// ca-cert-file, cert-file, key-file, username, password.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { PromiseConfig } from '../promise/index.ts';
import { asBool, asNumber, DEFAULT_TOLERANCE, StockPromise } from './base.ts';

interface Answer {
  status: number;
  location?: string;
}

export default class CheckUrlAvailable extends StockPromise {
  constructor(config: PromiseConfig) {
    super(config, DEFAULT_TOLERANCE);
  }

  async sense(): Promise<void> {
    const url = this.required('url');
    const expected = asNumber(this.getConfig('http-code'), 'http-code', 200)!;
    const ignoreCode = asBool(this.getConfig('ignore-code'), false);
    const allowRedirects = asBool(this.getConfig('allow-redirects'), true);
    // below the promise timeout, so a slow server is reported as such rather than as a killed promise
    const promiseTimeout = asNumber(this.getConfig('promise-timeout'), 'promise-timeout', 20)!;
    const defaultTimeout = Math.max(1, Math.min(5, promiseTimeout - 1));
    const timeoutMs = asNumber(this.getConfig('timeout'), 'timeout', defaultTimeout)! * 1000;
    const caFile = this.getConfig<string>('ca-cert-file');
    const verify = caFile ? true : asBool(this.getConfig('verify'), false);
    const certFile = this.getConfig<string>('cert-file');
    const keyFile = this.getConfig<string>('key-file');
    const username = this.getConfig<string>('username');
    const password = this.getConfig<string>('password', '');
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      this.logger.error(`ERROR: invalid URL '${url}'`);
      return;
    }
    const tls: https.RequestOptions = { rejectUnauthorized: verify };
    if (caFile) tls.ca = readFileSync(caFile);
    if (certFile && keyFile) {
      tls.cert = readFileSync(certFile);
      tls.key = readFileSync(keyFile);
    }
    const headers: Record<string, string> = { 'user-agent': 'vigil check-url-available' };
    if (username) headers['authorization'] = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

    let answer: Answer;
    let current = parsed;
    try {
      for (let hops = 0; ; hops++) {
        answer = await request(current, headers, tls, timeoutMs);
        if (!allowRedirects || answer.status < 300 || answer.status >= 400 || !answer.location) break;
        if (hops >= 10) throw new Error('too many redirects');
        current = new URL(answer.location, current);
      }
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const text = e.code ? `${e.code} ${e.message}` : e.message;
      if (/certificate|self[- ]signed|SSL|TLS/i.test(text)) {
        this.logger.error(`ERROR SSL verify failed while accessing '${url}': ${text}`);
      } else {
        this.logger.error(`ERROR connection not possible while accessing '${url}': ${text}`);
      }
      return;
    }
    const requestType = username ? 'authenticated' : 'non-authenticated';
    if (ignoreCode) {
      this.logger.info(`${requestType} request to '${url}' succeeded (return code ${answer.status} ignored)`);
    } else if (answer.status === expected) {
      this.logger.info(`${requestType} request to '${url}' succeeded (returned expected code ${expected})`);
    } else {
      this.logger.error(`${requestType} request to '${url}' failed (returned ${answer.status}, expected ${expected})`);
    }
  }
}

function request(url: URL, headers: Record<string, string>, tls: https.RequestOptions, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const isHttps = url.protocol === 'https:';
    if (!isHttps && url.protocol !== 'http:') {
      reject(new Error(`unsupported protocol ${url.protocol}`));
      return;
    }
    const opts: https.RequestOptions = { method: 'GET', headers, timeout: timeoutMs, ...(isHttps ? tls : {}) };
    const req = (isHttps ? https : http).request(url, opts, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end();
  });
}
