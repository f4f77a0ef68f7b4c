import { describe, expect, it } from 'vitest';
import { type ChannelRecord, applyChannelPut, channelView, generateChannelSecret, maskUrl } from '../../functions/notify/channels.ts';
import { Channel, ChannelPut } from '../../protocol/events.ts';

const now = new Date('2025-05-01T10:00:00.000Z');

describe('generated secrets', () => {
  it('are 32 random bytes, prefixed, valid as a PUT secret, never twice the same', () => {
    const a = generateChannelSecret();
    expect(a).toMatch(/^vwh1_[A-Za-z0-9_-]{43}$/);
    expect(ChannelPut.safeParse({ kind: 'webhook', url: 'https://x.example', secret: a }).success).toBe(true);
    expect(new Set(Array.from({ length: 100 }, generateChannelSecret)).size).toBe(100);
  });
});

describe('maskUrl', () => {
  it('hides the token of a Slack incoming webhook, keeps its shape', () => {
    expect(maskUrl('https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdEFGHijklMNOPqrstUVWX')).toBe(
      'https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcd…',
    );
  });
  it('hides user info, query values, long token-like segments; drops the fragment', () => {
    expect(maskUrl('https://user:pa55@example.com:8443/hook/1a2b3c4d5e6f7a8b9c0d?token=s3cr3t&x=1#frag')).toBe(
      'https://***@example.com:8443/hook/1a2b…?token=***&x=***',
    );
    expect(maskUrl('https://discord.com/api/webhooks/123456789012345678/AbC-dEf_123456789012345678901234567890')).toBe(
      'https://discord.com/api/webhooks/1234…/AbC-…',
    );
  });
  it('leaves plain URLs alone', () => {
    expect(maskUrl('http://127.0.0.1:9000/vigil/events')).toBe('http://127.0.0.1:9000/vigil/events');
    expect(maskUrl('https://ops.example.com/notifications-from-vigil')).toBe('https://ops.example.com/notifications-from-vigil');
  });
  it('never fails', () => {
    expect(maskUrl('not a url')).toBe('***');
  });
});

describe('PUT semantics and the view', () => {
  it('a new webhook without a secret gets one, returned once', () => {
    const r = applyChannelPut('ops', { kind: 'webhook', url: 'https://x.example/h' }, null, now, () => 'vwh1_generated');
    expect(r.created).toBe(true);
    expect(r.generatedSecret).toBe('vwh1_generated');
    expect(r.record).toMatchObject({ secret: 'vwh1_generated', events: null, instanceTreeId: null, createdAt: now.toISOString(), lastDelivery: null });
  });
  it('a given secret is used and not returned; an update without one keeps the old one', () => {
    const first = applyChannelPut('ops', { kind: 'webhook', url: 'https://x.example/h', secret: 'my-own-secret-1234' }, null, now);
    expect(first.generatedSecret).toBeNull();
    expect(first.record.secret).toBe('my-own-secret-1234');
    const later = new Date(now.getTime() + 1000);
    const upd = applyChannelPut('ops', { kind: 'webhook', url: 'https://y.example/h', events: ['bang.accepted'] }, first.record, later, () => 'never');
    expect(upd.created).toBe(false);
    expect(upd.generatedSecret).toBeNull();
    expect(upd.record).toMatchObject({ secret: 'my-own-secret-1234', url: 'https://y.example/h', events: ['bang.accepted'], createdAt: now.toISOString(), updatedAt: later.toISOString() });
  });
  it('slack channels have no secret; a slack channel turned webhook gets one', () => {
    const s = applyChannelPut('chat', { kind: 'slack', url: 'https://hooks.slack.com/services/T/B/x' }, null, now, () => 'never');
    expect(s.record.secret).toBeNull();
    expect(s.generatedSecret).toBeNull();
    const w = applyChannelPut('chat', { kind: 'webhook', url: 'https://x.example' }, s.record, now, () => 'vwh1_new');
    expect(w.generatedSecret).toBe('vwh1_new');
  });
  it('the view never shows the secret or the full URL, and matches the wire schema', () => {
    const rec: ChannelRecord = {
      channelId: 'ops',
      kind: 'slack',
      url: 'https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdEFGHijklMNOPqrstUVWX',
      secret: null,
      events: null,
      instanceTreeId: 't1',
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      lastDelivery: { at: now.toISOString(), eventId: `ev_${'a'.repeat(43)}`, ok: true, status: 200 },
    };
    const v = channelView(rec, 7);
    expect(Channel.parse(v)).toEqual(v);
    expect(v.backlog).toBe(7);
    expect(v.hasSecret).toBe(false);
    expect(JSON.stringify(v)).not.toContain('qrstUVWX');
    const w = channelView({ ...rec, kind: 'webhook', secret: 'topsecret-topsecret' }, 0);
    expect(w.hasSecret).toBe(true);
    expect(JSON.stringify(w)).not.toContain('topsecret');
  });
});
