import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bangAcceptedEvent,
  bangRejectedEvent,
  initialPartitionNotifyState,
  observeComputer,
  observePartition,
} from '../../functions/notify/derive.ts';
import {
  SLACK_SECTION_MAX,
  channelBody,
  neutraliseBidi,
  slackEscape,
  slackLink,
  slackMessage,
  webhookBody,
} from '../../functions/notify/format.ts';
import { EVENT_TYPES, type VigilEvent, VigilEvent as VigilEventSchema } from '../../protocol/events.ts';
import type { Colour } from '../../protocol/index.ts';

const at = '2025-05-01T10:00:00.000Z';
const BASE = 'https://vigil.example';
const bang = { bangId: 'b1', partitionId: 'p1', computerId: 'C1', instanceTreeId: 't1', source: 'watchdog' as const, message: 'service web exited' };

function partitionColour(reason: string, to: Colour = 'red'): VigilEvent {
  return observePartition({
    partition: { partitionId: 'p1', computerId: 'C1', instanceTreeId: 't1' },
    before: to === 'red' ? 'green' : 'red',
    after: { colour: to, reason, since: at },
    at,
    state: { ...initialPartitionNotifyState(), announced: to === 'red' ? 'green' : 'red' },
    computerColour: 'green',
    bangInProgress: null,
    silences: [],
    baseUrl: BASE,
  }).events[0]!;
}

function flapping(type: 'flapping.started' | 'flapping.stopped', reason = 'promise x failed'): VigilEvent {
  return {
    eventId: `ev_${'f'.repeat(43)}`,
    type,
    at,
    computerId: 'C1',
    partitionId: 'p1',
    instanceTreeId: 't1',
    link: `${BASE}/partitions/p1`,
    data: { percentStateChange: type === 'flapping.started' ? 51.37 : 12, threshold: type === 'flapping.started' ? 50 : 25, colour: 'red', reason },
  };
}

function samples(reason = 'promise check-site failed: HTTP 503'): VigilEvent[] {
  return [
    partitionColour(reason),
    observeComputer({
      computerId: 'C1',
      before: 'green',
      after: { colour: 'orange', reason: 'no contact for 6 min', since: at },
      at,
      partitions: Array.from({ length: 30 }, (_, i) => ({ partitionId: `p${i}`, instanceTreeId: 't1', colour: (i % 3 ? 'green' : 'red') as Colour })),
      silences: [],
      baseUrl: BASE,
    })!,
    bangAcceptedEvent({ bang: { ...bang, message: reason }, fannedOutTo: 3, partitionIds: ['p1', 'p2', 'p3'], partitionCount: 3, at, silences: [], baseUrl: BASE }),
    bangRejectedEvent({ bang: { ...bang, message: reason }, quotaPerDay: 24, retryAfter: '2025-05-02T00:00:00Z', at, silences: [], baseUrl: BASE }),
    flapping('flapping.started', reason),
    flapping('flapping.stopped', reason),
  ];
}

const sectionTexts = (m: ReturnType<typeof slackMessage>) =>
  m.blocks.flatMap((b) => (b.type === 'section' ? [b.text.text] : b.elements.map((e) => e.text)));
const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;

describe('webhook body', () => {
  it('is the event JSON, parseable back to the same event', () => {
    for (const e of samples()) {
      const body = webhookBody(e);
      expect(JSON.parse(body)).toEqual(e);
      expect(VigilEventSchema.parse(JSON.parse(body))).toEqual(e);
    }
  });
  it('property: the same bytes whatever the key order of the stored event', () => {
    const shuffle = (o: unknown, seed: number): unknown => {
      if (Array.isArray(o)) return o.map((x) => shuffle(x, seed));
      if (o && typeof o === 'object') {
        const entries = Object.entries(o);
        const rotated = entries.slice(seed % (entries.length || 1)).concat(entries.slice(0, seed % (entries.length || 1)));
        return Object.fromEntries(rotated.reverse().map(([k, v]) => [k, shuffle(v, seed + 1)]));
      }
      return o;
    };
    fc.assert(
      fc.property(fc.constantFrom(...samples()), fc.nat(50), (e, seed) => {
        expect(webhookBody(shuffle(e, seed) as VigilEvent)).toBe(webhookBody(e));
      }),
    );
  });
  it('channelBody: JSON event for webhooks, the Slack message for slack', () => {
    const e = samples()[0]!;
    expect(channelBody('webhook', e)).toBe(webhookBody(e));
    expect(JSON.parse(channelBody('slack', e))).toEqual(slackMessage(e));
  });
});

describe('slack escaping', () => {
  it('escapes &, <, > and makes bidi controls visible', () => {
    expect(slackEscape('a & b <!channel> <http://evil|click> >')).toBe('a &amp; b &lt;!channel&gt; &lt;http://evil|click&gt; &gt;');
    expect(neutraliseBidi('evil\u202Egnp.json')).toBe('evil[U+202E]gnp.json');
    expect(neutraliseBidi('\u061C\u200E\u200F\u2066\u2069')).toBe('[U+061C][U+200E][U+200F][U+2066][U+2069]');
    expect(slackEscape('x\u202Ay')).toBe('x[U+202A]y');
  });
  it('links: the URL cannot end the link early, the label is escaped', () => {
    expect(slackLink('https://m/partitions/a', 'a')).toBe('<https://m/partitions/a|a>');
    expect(slackLink('https://m/x?a=1&b=2|3>4', 'l<b>')).toBe('<https://m/x?a=1&amp;b=2%7C3%3E4|l&lt;b&gt;>');
  });
  it('property: agent text never opens a link, a mention or a bidi override in any message', () => {
    const nasty = fc.string();
    const plain = samples('plain');
    fc.assert(
      fc.property(
        fc.array(fc.oneof(nasty, fc.constantFrom('<', '>', '&', '|', '<!channel>', '<@U123>', '\u202E', '\u2066', '\n', '*', '`')), { maxLength: 30 }).map((a) => a.join('')),
        (reason) => {
          for (const e of samples(reason)) {
            const m = slackMessage(e);
            const baseline = slackMessage(plain.find((x) => x.type === e.type)!);
            const count = (texts: string[]) => texts.join('\n').split('<').length - 1;
            // the only '<' are vigil's own links: as many as for a harmless reason
            expect(count(sectionTexts(m))).toBe(count(sectionTexts(baseline)));
            expect(count([m.text])).toBe(count([baseline.text]));
            for (const t of [m.text, ...sectionTexts(m)]) {
              expect(t).not.toMatch(BIDI);
              expect(t.length).toBeLessThanOrEqual(SLACK_SECTION_MAX);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('slack messages', () => {
  it('one formatter per type, each {text, blocks} with a section and a context', () => {
    const seen = new Set<string>();
    for (const e of samples()) {
      const m = slackMessage(e);
      seen.add(e.type);
      expect(m.text.length).toBeGreaterThan(0);
      expect(m.blocks[0]!.type).toBe('section');
      expect(m.blocks.at(-1)!.type).toBe('context');
      expect(m.blocks.length).toBeLessThanOrEqual(50);
      expect(sectionTexts(m).join('\n')).toContain(e.eventId);
    }
    expect([...seen].sort()).toEqual([...EVENT_TYPES].sort());
  });

  it('partition colour: colour as emoji and word, reason, was, since, ids and a dashboard link', () => {
    const m = slackMessage(partitionColour('promise check-site failed: HTTP 503'));
    expect(m.text).toBe('🔴 FAIL (red): partition p1: promise check-site failed: HTTP 503');
    const [main, ctx] = sectionTexts(m);
    expect(main).toBe(
      '🔴 FAIL (red)  partition <https://vigil.example/partitions/p1|p1> of tree `t1` on computer `C1`\n>promise check-site failed: HTTP 503',
    );
    expect(ctx).toMatch(/^was 🟢 OK \(green\) · since 2025-05-01 10:00:00Z · at 2025-05-01 10:00:00Z · event `ev_/);
    const green = sectionTexts(slackMessage(partitionColour('all promises kept', 'green')))[0]!;
    expect(green.startsWith('🟢 OK (green)')).toBe(true);
  });

  it('never a colour alone: each colour emoji comes with its word', () => {
    for (const e of samples()) {
      const m = slackMessage(e);
      for (const t of [m.text, ...sectionTexts(m)]) {
        for (const [emoji, word] of [
          ['🟢', 'OK'],
          ['🟠', 'LATE'],
          ['🔴', 'FAIL'],
        ]) {
          const n = t.split(emoji!).length - 1;
          expect(t.split(`${emoji} ${word}`).length - 1, t).toBe(n);
        }
      }
    }
  });

  it('computer: lists its partitions (at most 20 named) with their colours', () => {
    const m = slackMessage(samples()[1]!);
    const texts = sectionTexts(m);
    expect(texts[0]).toContain('🟠 LATE (orange)  computer <https://vigil.example/computers/C1|C1>');
    expect(texts[1]).toMatch(/^30 partitions affected/);
    expect(texts[1]).toContain('`p0` 🔴 FAIL');
    expect(texts[1]).toContain('… and 10 more');
  });

  it('bangs and flapping say what happened', () => {
    const [, , acc, rej, start, stop] = samples('the message');
    expect(slackMessage(acc!).text).toBe('💥 Bang on partition p1 (watchdog): reprocessing tree t1, 3 partitions');
    expect(sectionTexts(slackMessage(acc!))[0]).toContain('<https://vigil.example/trees/t1|t1>');
    expect(sectionTexts(slackMessage(acc!))[1]).toBe('3 of 3 partitions flagged for reprocess: `p1`, `p2`, `p3`');
    expect(slackMessage(rej!).text).toBe('⛔ Bang refused: partition p1 is over its daily quota (24/day); nothing reprocessed until 2025-05-02 00:00:00Z');
    expect(slackMessage(start!).text).toBe('🔁 Partition p1 is flapping (51.37 % state change); colour events paused');
    expect(slackMessage(stop!).text).toBe('⏹️ Partition p1 stopped flapping; now 🔴 FAIL (red)');
  });

  it('long agent text keeps its end and fits Slack limits', () => {
    const long = `${'x'.repeat(10_000)}THE END`;
    for (const e of samples(long)) {
      const m = slackMessage(e);
      for (const t of [m.text, ...sectionTexts(m)]) expect(t.length).toBeLessThanOrEqual(SLACK_SECTION_MAX);
      if (e.type !== 'computer.colour') expect(sectionTexts(m)[0]).toContain('THE END');
    }
  });

  it('multi-line text is quoted line by line', () => {
    const main = sectionTexts(slackMessage(partitionColour('line one\nline <two>')))[0]!;
    expect(main.endsWith('\n>line one\n>line &lt;two&gt;')).toBe(true);
  });
});
