// check-certificate (slapos.toolbox check_certificate): `certificate` (PEM file; the first
// certificate in it) must not expire within `certificate-expiration-days` (15, an integer),
// and must match `key` (PEM file) when given. Checked in the reference's order: the days
// value, loading the certificate, the expiry, the key. Like the reference: no frequency key
// of its own (default periodicity 2 min; vigil reads `frequency`), test 1/1 and anomaly 1/1
// (an AnomalyResult). vigil extra: a certificate not valid yet fails too.
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PromiseConfig } from '../promise/index.ts';
import { type AnomalyResult, StockPromise, type TestResult } from './base.ts';
import { pyErrorStr, pyInt, pyRepr } from './py.ts';

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/;
const KEY_BLOCK = /-----BEGIN ((?:RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY)-----[\s\S]*?-----END \1-----/;

export default class CheckCertificate extends StockPromise {
  constructor(config: PromiseConfig) {
    super(config, 2);
  }

  override test(): TestResult {
    return this.testOf([1, 1]);
  }

  override anomaly(): AnomalyResult {
    return this.anomalyOf([1, 1]);
  }

  sense(): void {
    const file = this.getConfig<string | undefined>('certificate');
    const keyFile = this.getConfig<string | undefined>('key');
    const rawDays = this.getConfig<unknown>('certificate-expiration-days', '15');
    const days = pyInt(rawDays);
    if (days === undefined) {
      this.logger.error(`ERROR certificate-expiration-days is wrong: ${pyRepr(rawDays)}`);
      return;
    }
    const cert = this.loadCertificate(file);
    if (!cert) return;
    const now = this.now().getTime();
    const notAfter = new Date(cert.validTo).getTime();
    const notBefore = new Date(cert.validFrom).getTime();
    const expires = new Date(notAfter).toISOString();
    if (notAfter - days * 86_400_000 < now) {
      const left = (notAfter - now) / 86_400_000;
      this.logger.error(
        `ERROR Certificate ${pyRepr(file)} will expire in less than ${days} days (${left > 0 ? `in ${left.toFixed(1)} days, ` : 'expired, '}on ${expires})`,
      );
      return;
    }
    if (now < notBefore) {
      this.logger.error(`ERROR Certificate ${pyRepr(file)} is not valid before ${new Date(notBefore).toISOString()}`);
      return;
    }
    if (keyFile) {
      const key = this.loadKey(keyFile);
      if (!key) return;
      if (!cert.checkPrivateKey(key)) {
        this.logger.error(`ERROR Certificate ${pyRepr(file)} does not match key ${pyRepr(keyFile)}`);
        return;
      }
      this.logger.info(`OK Certificate ${pyRepr(file)} and key ${pyRepr(keyFile)} are ok (expires on ${expires})`);
    } else this.logger.info(`OK Certificate ${pyRepr(file)} is ok, no key provided (expires on ${expires})`);
  }

  private loadCertificate(file: string | undefined): X509Certificate | undefined {
    const fail = (why: string) => {
      this.logger.error(`ERROR Problem loading certificate ${pyRepr(file)}, error: ${why}`);
      return undefined;
    };
    if (!file) return fail("config 'certificate' is not set");
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      return fail(pyErrorStr(err, file));
    }
    const block = CERT_BLOCK.exec(text);
    if (!block) return fail('Invalid PEM encoding');
    try {
      return new X509Certificate(block[0]);
    } catch (err) {
      return fail((err as Error).message);
    }
  }

  private loadKey(keyFile: string): KeyObject | undefined {
    const fail = (why: string) => {
      this.logger.error(`ERROR Problem loading key ${pyRepr(keyFile)}, error: ${why}`);
      return undefined;
    };
    let text: string;
    try {
      text = readFileSync(keyFile, 'utf8');
    } catch (err) {
      // like python's ssl.load_cert_chain: the errno text, without the file name
      return fail(pyErrorStr(err));
    }
    const block = KEY_BLOCK.exec(text);
    if (!block) return fail('[SSL] PEM lib: no private key in the file');
    try {
      return createPrivateKey(block[0]);
    } catch (err) {
      return fail((err as Error).message);
    }
  }
}
