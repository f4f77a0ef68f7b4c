// docs/notifications.md shows exact formats: its examples must be what the code produces.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BACKOFF_FIRST_MS, BACKOFF_MAX_MS, GIVE_UP_AFTER_MS } from '../../functions/notify/backoff.ts';
import { signBody } from '../../functions/notify/deliver.ts';
import { slackMessage, webhookBody } from '../../functions/notify/format.ts';
import { FLAP_START_PERCENT, FLAP_STOP_PERCENT, FLAP_WINDOW } from '../../functions/domain/flapping.ts';
import { GUARDED_REPAIR_GRACE_MS } from '../../functions/services/notify-publish.ts';
import { EVENT_TYPES, VigilEvent } from '../../protocol/events.ts';

const doc = readFileSync(new URL('../../docs/notifications.md', import.meta.url), 'utf8');
const jsonBlocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as Record<string, unknown>);
const events = jsonBlocks.filter((b) => 'eventId' in b).map((b) => ({ raw: b, event: VigilEvent.parse(b) }));

describe('docs/notifications.md', () => {
  it('has one valid example per event type, keys in wire order', () => {
    expect(events.map((e) => e.event.type).sort()).toEqual([...EVENT_TYPES].sort());
    for (const { raw, event } of events) expect(webhookBody(event)).toBe(JSON.stringify(raw));
  });
  it('the Slack example is what the partition.colour example gives', () => {
    const slack = jsonBlocks.find((b) => 'blocks' in b);
    const partition = events.find((e) => e.event.type === 'partition.colour')!.event;
    expect(slack).toEqual(slackMessage(partition));
  });
  it('the signature example verifies', () => {
    const partition = events.find((e) => e.event.type === 'partition.colour')!.event;
    const sig = /X-Vigil-Signature: (sha256=[0-9a-f]{64})/.exec(doc)?.[1];
    expect(sig).toBe(signBody('vwh1_example-secret', webhookBody(partition)));
  });
  it('states the numbers the code uses', () => {
    expect(BACKOFF_FIRST_MS).toBe(5_000);
    expect(doc).toContain('5 s after the first failure');
    expect(BACKOFF_MAX_MS).toBe(30 * 60_000);
    expect(doc).toContain('up to 30 min');
    expect(GIVE_UP_AFTER_MS).toBe(48 * 3_600_000);
    expect(doc).toContain('**48 h**');
    expect(FLAP_WINDOW).toBe(21);
    expect(doc).toContain(`**${FLAP_WINDOW} recorded colour`);
    expect(doc).toContain(`above **${FLAP_START_PERCENT} %**`);
    expect(doc).toContain(`below **${FLAP_STOP_PERCENT} %**`);
    expect(GUARDED_REPAIR_GRACE_MS).toBe(5 * 60_000);
    expect(doc).toContain('5 minutes later (`GUARDED_REPAIR_GRACE_MS`');
  });
});
