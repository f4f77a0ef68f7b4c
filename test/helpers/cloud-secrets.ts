// Secrets Manager for the handler tests. When AWS_ENDPOINT_URL_SECRETS_MANAGER or
// AWS_ENDPOINT_URL is set (LocalStack), that endpoint is used as it is. Otherwise a minimal
// in-process emulator of the three calls vigil needs (CreateSecret, PutSecretValue,
// GetSecretValue; AWS JSON 1.1 protocol, like the real service) serves the real SDK client.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

interface Secret {
  arn: string;
  name: string;
  value: string;
  versionId: string;
}

export interface SecretsFixture {
  endpoint: string;
  /** An SDK client on that endpoint; counts GetSecretValue calls. */
  client: SecretsManagerClient;
  getSecretValueCalls(): number;
  create(value: string): Promise<string>;
  put(secretId: string, value: string): Promise<void>;
  readonly emulated: boolean;
  close(): Promise<void>;
}

function startEmulator(): Promise<{ server: Server; endpoint: string }> {
  const secrets = new Map<string, Secret>();
  const find = (id: string) => secrets.get(id) ?? [...secrets.values()].find((s) => s.name === id);
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => {
      raw += d.toString();
    });
    req.on('end', () => {
      const send = (status: number, body: object, type?: string) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...(type ? { 'x-amzn-errortype': type } : {}) });
        res.end(JSON.stringify(type ? { __type: type, ...body } : body));
      };
      const target = String(req.headers['x-amz-target'] ?? '');
      const input = raw ? (JSON.parse(raw) as Record<string, string>) : {};
      if (target === 'secretsmanager.CreateSecret') {
        const name = String(input.Name);
        const arn = `arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-${randomBytes(3).toString('hex')}`;
        const s: Secret = { arn, name, value: String(input.SecretString ?? ''), versionId: randomUUID() };
        secrets.set(arn, s);
        return send(200, { ARN: arn, Name: name, VersionId: s.versionId });
      }
      const s = find(String(input.SecretId));
      if (!s) return send(400, { message: `Secrets Manager can't find the specified secret.` }, 'ResourceNotFoundException');
      if (target === 'secretsmanager.PutSecretValue') {
        s.value = String(input.SecretString ?? '');
        s.versionId = randomUUID();
        return send(200, { ARN: s.arn, Name: s.name, VersionId: s.versionId });
      }
      if (target === 'secretsmanager.GetSecretValue') {
        return send(200, { ARN: s.arn, Name: s.name, SecretString: s.value, VersionId: s.versionId, CreatedDate: Date.now() / 1000 });
      }
      return send(400, { message: `unsupported ${target}` }, 'InvalidRequestException');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, endpoint: `http://127.0.0.1:${port}` });
    });
  });
}

export async function createSecretsFixture(): Promise<SecretsFixture> {
  const external = process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER || process.env.AWS_ENDPOINT_URL || '';
  const emu = external ? undefined : await startEmulator();
  const endpoint = external || emu!.endpoint;
  const client = new SecretsManagerClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  let gets = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if ((context as { commandName?: string }).commandName === 'GetSecretValueCommand') gets++;
      return next(args);
    },
    { step: 'initialize', name: 'vigilCountGets' },
  );
  return {
    endpoint,
    client,
    emulated: !external,
    getSecretValueCalls: () => gets,
    async create(value) {
      const r = await client.send(new CreateSecretCommand({ Name: `vigil-test-${randomBytes(4).toString('hex')}`, SecretString: value }));
      return r.ARN!;
    },
    async put(secretId, value) {
      await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value }));
    },
    async close() {
      client.destroy();
      if (emu) await new Promise<void>((r) => emu.server.close(() => r()));
    },
  };
}
