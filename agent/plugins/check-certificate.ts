// check-certificate: certificate (PEM file), certificate-expiration-days (15), key (optional
// PEM file that must match the certificate).
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PromiseConfig } from '../promise/index.ts';
import { asNumber, StockPromise } from './base.ts';

export default class CheckCertificate extends StockPromise {
  constructor(config: PromiseConfig) {
    super(config, { test: [1, 1], anomaly: [1, 1] });
  }

  sense(): void {
    const file = this.required('certificate');
    const days = asNumber(this.getConfig('certificate-expiration-days'), 'certificate-expiration-days', 15)!;
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(readFileSync(file));
    } catch (err) {
      this.logger.error(`ERROR Problem loading certificate '${file}', error: ${(err as Error).message}`);
      return;
    }
    const keyFile = this.getConfig<string>('key');
    if (keyFile) {
      try {
        if (!cert.checkPrivateKey(createPrivateKey(readFileSync(keyFile)))) {
          this.logger.error(`ERROR Certificate '${file}' does not match key '${keyFile}'`);
          return;
        }
      } catch (err) {
        this.logger.error(`ERROR Problem loading key '${keyFile}', error: ${(err as Error).message}`);
        return;
      }
    }
    const now = this.now().getTime();
    const notAfter = new Date(cert.validTo).getTime();
    const notBefore = new Date(cert.validFrom).getTime();
    const left = (notAfter - now) / 86_400_000;
    if (now < notBefore) this.logger.error(`ERROR Certificate '${file}' is not valid before ${new Date(notBefore).toISOString()}`);
    else if (left <= 0) this.logger.error(`ERROR Certificate '${file}' expired on ${new Date(notAfter).toISOString()}`);
    else if (left < days) {
      this.logger.error(
        `ERROR Certificate '${file}' will expire in less than ${days} days (in ${left.toFixed(1)} days, on ${new Date(notAfter).toISOString()})`,
      );
    } else this.logger.info(`OK Certificate '${file}'${keyFile ? ` and key '${keyFile}' are` : ' is'} ok (expires on ${new Date(notAfter).toISOString()}, in ${Math.floor(left)} days)`);
  }
}
