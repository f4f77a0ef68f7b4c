// Channels: secrets, the masked URL shown by the API, and the wire view.
import { randomBytes } from 'node:crypto';
import type { Channel, ChannelKind, EventType } from '../../protocol/events.ts';
import type { ChannelRecord } from '../domain/notify-records.ts';

/** A generated webhook secret: `vwh1_` + 32 random bytes, base64url (shown once, on 201). */
export function generateChannelSecret(): string {
  return `vwh1_${randomBytes(32).toString('base64url')}`;
}

/**
 * A path segment that looks like a token: ≥ 16 URL-safe characters with a digit, or with
 * both upper- and lower-case letters (`notifications-from-vigil` is a word, not a token).
 */
const TOKENISH = /^(?=.*\d|(?=.*[a-z])(?=.*[A-Z]))[A-Za-z0-9_\-.~%]{16,}$/;

/**
 * The URL as the API shows it: user info and query values replaced by `***`, token-like
 * path segments cut to their first 4 characters + `…` (Slack's
 * /services/T…/B…/<secret>, Discord's /webhooks/<id>/<token>), no fragment. Enough to
 * tell channels apart, not enough to post to them.
 */
export function maskUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return '***';
  }
  const userinfo = u.username || u.password ? '***@' : '';
  const path = u.pathname
    .split('/')
    .map((seg) => (TOKENISH.test(seg) ? `${seg.slice(0, 4)}…` : seg))
    .join('/');
  const query = u.search
    ? `?${u.search
        .slice(1)
        .split('&')
        .map((kv) => {
          const i = kv.indexOf('=');
          return i < 0 ? kv : `${kv.slice(0, i)}=***`;
        })
        .join('&')}`
    : '';
  return `${u.protocol}//${userinfo}${u.host}${path}${query}`;
}

export type { ChannelRecord };

/** The wire view (never the secret, never the full URL). */
export function channelView(c: ChannelRecord, backlog: number): Channel {
  return {
    channelId: c.channelId,
    kind: c.kind,
    url: maskUrl(c.url),
    hasSecret: c.secret !== null,
    events: c.events,
    instanceTreeId: c.instanceTreeId,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    lastDelivery: c.lastDelivery,
    backlog,
  };
}

/**
 * The record a PUT leaves. A webhook keeps its secret when the PUT gives none; a new
 * webhook without one gets a generated secret, returned as `generatedSecret` (201, shown
 * once). A slack channel has no secret.
 */
export function applyChannelPut(
  channelId: string,
  put: { kind: ChannelKind; url: string; secret?: string | undefined; events?: EventType[] | undefined; instanceTreeId?: string | undefined },
  existing: ChannelRecord | null,
  now: Date,
  newSecret: () => string = generateChannelSecret,
): { record: ChannelRecord; created: boolean; generatedSecret: string | null } {
  const at = now.toISOString();
  let secret: string | null = null;
  let generatedSecret: string | null = null;
  if (put.kind === 'webhook') {
    secret = put.secret ?? (existing?.kind === 'webhook' ? existing.secret : null);
    if (!secret) {
      secret = newSecret();
      generatedSecret = secret;
    }
  }
  return {
    record: {
      channelId,
      kind: put.kind,
      url: put.url,
      secret,
      events: put.events ?? null,
      instanceTreeId: put.instanceTreeId ?? null,
      createdAt: existing?.createdAt ?? at,
      updatedAt: at,
      lastDelivery: existing?.lastDelivery ?? null,
    },
    created: existing === null,
    generatedSecret,
  };
}
