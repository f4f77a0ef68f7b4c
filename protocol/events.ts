// Wire schemas of notifications (SPEC §3 "Notifications"): events, channels, silences.
// Plain `zod` only, like protocol/index.ts (the agent bundles protocol/). The exact JSON of
// each event and how it is delivered: docs/notifications.md.
import { z } from 'zod';
import { BangSource, Colour, Id, IsoDate, NextCursor, PageQuery } from './index.ts';

export const EVENT_TYPES = [
  'computer.colour',
  'partition.colour',
  'bang.accepted',
  'bang.rejected',
  'flapping.started',
  'flapping.stopped',
] as const;
export const EventType = z.enum(EVENT_TYPES);
export type EventType = z.infer<typeof EventType>;

/** Lists of partitions or trees inside one event stop at this many entries (plus a count). */
export const EVENT_LIST_CAP = 100;

/** `ev_` + 43 base64url characters (SHA-256 of the change the event describes). */
export const EVENT_ID_PATTERN = /^ev_[A-Za-z0-9_-]{43}$/;
export const EventId = z.string().regex(EVENT_ID_PATTERN, 'must be ev_ followed by 43 base64url characters');

/** A colour change as recorded by the master (report, bang, sweep). */
const ColourChange = {
  from: Colour,
  to: Colour,
  reason: z.string(),
  since: IsoDate.describe('when the new colour started (master clock)'),
};

export const ComputerColourData = z.object({
  ...ColourChange,
  partitions: z
    .array(z.object({ partitionId: Id, instanceTreeId: Id, colour: Colour }))
    .max(EVENT_LIST_CAP)
    .describe('the partitions of the computer and their colours (first 100 by id)'),
  partitionCount: z.number().int().min(0),
  instanceTreeIds: z.array(Id).max(EVENT_LIST_CAP).describe('the distinct trees of those partitions (first 100 by id)'),
  instanceTreeCount: z.number().int().min(0),
});
export type ComputerColourData = z.infer<typeof ComputerColourData>;

export const PartitionColourData = z.object(ColourChange);
export type PartitionColourData = z.infer<typeof PartitionColourData>;

export const BangAcceptedData = z.object({
  bangId: Id,
  source: BangSource,
  message: z.string(),
  fannedOutTo: z.number().int().min(0).describe('partitions flagged for reprocess by this bang'),
  partitions: z.array(Id).max(EVENT_LIST_CAP).describe('the partitions of the tree (first 100 by id)'),
  partitionCount: z.number().int().min(0),
});
export type BangAcceptedData = z.infer<typeof BangAcceptedData>;

export const BangRejectedData = z.object({
  bangId: Id,
  source: BangSource,
  message: z.string(),
  quotaPerDay: z.number().int().min(0),
  retryAfter: IsoDate.describe('when the daily quota resets (next UTC day)'),
});
export type BangRejectedData = z.infer<typeof BangRejectedData>;

export const FlappingData = z.object({
  percentStateChange: z.number().min(0).max(100),
  threshold: z.number().min(0).max(100).describe('started: above this; stopped: below this'),
  colour: Colour.describe('the colour of the partition at that moment'),
  reason: z.string(),
});
export type FlappingData = z.infer<typeof FlappingData>;

/** Marks an event that was recorded but not sent because a silence matched it. */
export const SilencedMark = z.object({ silenceId: Id, reason: z.string() });
export type SilencedMark = z.infer<typeof SilencedMark>;

/** Marks an event that was recorded but not sent because another event stands for it. */
export const SuppressedMark = z.object({
  by: z
    .enum(['computer', 'bang', 'flapping', 'announced'])
    .describe('announced: the change went back to the colour receivers were last told'),
  id: Id.describe('the computer, bang or partition whose event stands for this one'),
});
export type SuppressedMark = z.infer<typeof SuppressedMark>;

const base = {
  eventId: EventId,
  at: IsoDate.describe('when the master recorded the change (master clock)'),
  computerId: Id.optional(),
  partitionId: Id.optional(),
  instanceTreeId: Id.optional(),
  link: z.string().describe('dashboard page of the thing the event is about'),
  silenced: SilencedMark.optional(),
  suppressed: SuppressedMark.optional(),
};

export const ComputerColourEvent = z.object({
  eventId: base.eventId,
  type: z.literal('computer.colour'),
  at: base.at,
  computerId: Id,
  link: base.link,
  data: ComputerColourData,
  silenced: base.silenced,
  suppressed: base.suppressed,
});
export const PartitionColourEvent = z.object({
  eventId: base.eventId,
  type: z.literal('partition.colour'),
  at: base.at,
  computerId: Id,
  partitionId: Id,
  instanceTreeId: Id,
  link: base.link,
  data: PartitionColourData,
  silenced: base.silenced,
  suppressed: base.suppressed,
});
export const BangAcceptedEvent = z.object({
  eventId: base.eventId,
  type: z.literal('bang.accepted'),
  at: base.at,
  computerId: Id,
  partitionId: Id,
  instanceTreeId: Id,
  link: base.link,
  data: BangAcceptedData,
  silenced: base.silenced,
  suppressed: base.suppressed,
});
export const BangRejectedEvent = z.object({
  eventId: base.eventId,
  type: z.literal('bang.rejected'),
  at: base.at,
  computerId: Id,
  partitionId: Id,
  instanceTreeId: Id,
  link: base.link,
  data: BangRejectedData,
  silenced: base.silenced,
  suppressed: base.suppressed,
});
const flapping = <T extends 'flapping.started' | 'flapping.stopped'>(type: T) =>
  z.object({
    eventId: base.eventId,
    type: z.literal(type),
    at: base.at,
    computerId: Id,
    partitionId: Id,
    instanceTreeId: Id,
    link: base.link,
    data: FlappingData,
    silenced: base.silenced,
    suppressed: base.suppressed,
  });
export const FlappingStartedEvent = flapping('flapping.started');
export const FlappingStoppedEvent = flapping('flapping.stopped');

/**
 * One event. Parsing also fixes the key order (schema order), so the JSON of an event read
 * back from the store is byte-identical to the JSON first sent (see webhookBody).
 */
export const VigilEvent = z.discriminatedUnion('type', [
  ComputerColourEvent,
  PartitionColourEvent,
  BangAcceptedEvent,
  BangRejectedEvent,
  FlappingStartedEvent,
  FlappingStoppedEvent,
]);
export type VigilEvent = z.infer<typeof VigilEvent>;
export type EventOf<T extends EventType> = Extract<VigilEvent, { type: T }>;

// ---------------------------------------------------------------- channels
export const CHANNEL_URL_MAX = 2048;
export const CHANNEL_SECRET_MIN = 16;
export const CHANNEL_SECRET_MAX = 256;

export const ChannelKind = z.enum(['webhook', 'slack']);
export type ChannelKind = z.infer<typeof ChannelKind>;

const HttpUrl = z
  .string()
  .max(CHANNEL_URL_MAX)
  .refine(
    (s) => {
      try {
        const u = new URL(s);
        return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
      } catch {
        return false;
      }
    },
    { message: 'must be an absolute http:// or https:// URL' },
  );

export const ChannelPut = z
  .object({
    kind: ChannelKind,
    url: HttpUrl,
    secret: z
      .string()
      .min(CHANNEL_SECRET_MIN)
      .max(CHANNEL_SECRET_MAX)
      .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
      .optional()
      .describe('webhook only: HMAC-SHA256 key of X-Vigil-Signature; generated (and shown once) when absent'),
    events: z
      .array(EventType)
      .min(1)
      .refine((a) => new Set(a).size === a.length, { message: 'must not repeat a type' })
      .optional()
      .describe('only these event types (default: all)'),
    instanceTreeId: Id.optional().describe('only events about this instance tree'),
  })
  .superRefine((v, ctx) => {
    if (v.kind === 'slack' && v.secret !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['secret'],
        message: 'a slack channel takes no secret (the incoming-webhook URL is the secret)',
      });
    }
  });
export type ChannelPut = z.infer<typeof ChannelPut>;

export const LastDelivery = z.object({
  at: IsoDate,
  eventId: EventId,
  ok: z.boolean(),
  status: z.number().int().optional().describe('HTTP status, absent on network errors and timeouts'),
  error: z.string().optional(),
});
export type LastDelivery = z.infer<typeof LastDelivery>;

export const Channel = z.object({
  channelId: Id,
  kind: ChannelKind,
  url: z.string().describe('masked: user info, query values and token-like path segments are hidden'),
  hasSecret: z.boolean(),
  events: z.array(EventType).nullable().describe('null: every type'),
  instanceTreeId: Id.nullable(),
  createdAt: IsoDate,
  updatedAt: IsoDate,
  lastDelivery: LastDelivery.nullable(),
  backlog: z.number().int().min(0).describe('events waiting for delivery to this channel'),
  dead: z
    .object({
      count: z.number().int().min(0).describe('deliveries that died (refused by the receiver, or given up after 48 h)'),
      last: z.object({ at: IsoDate, eventId: EventId, error: z.string() }).nullable(),
    })
    .optional()
    .describe('dead deliveries of this channel (the events stay recorded: GET /v1/events)'),
});
export type Channel = z.infer<typeof Channel>;

/** 201 answer of a PUT that created a webhook without a secret: the generated one, shown once. */
export const ChannelCreated = Channel.extend({
  secret: z.string().optional().describe('only when generated by the master; never shown again'),
});
export type ChannelCreated = z.infer<typeof ChannelCreated>;

export const ChannelList = z.object({ channels: z.array(Channel), nextCursor: NextCursor });
export const ChannelDeleted = z.object({ channelId: Id, deleted: z.literal(true), dropped: z.number().int().min(0).describe('queued deliveries dropped') });
export type ChannelDeleted = z.infer<typeof ChannelDeleted>;
export type ChannelList = z.infer<typeof ChannelList>;

// ---------------------------------------------------------------- silences
export const SILENCE_REASON_MAX = 1000;
export const SILENCE_MAX_MS = 366 * 86_400_000;

export const SilenceMatch = z
  .object({ computerId: Id.optional(), partitionId: Id.optional(), instanceTreeId: Id.optional() })
  .strict()
  .superRefine((m, ctx) => {
    const n = [m.computerId, m.partitionId, m.instanceTreeId].filter((v) => v !== undefined).length;
    if (n !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `must name exactly one of computerId, partitionId, instanceTreeId (got ${n})`,
      });
    }
  });
export type SilenceMatch = z.infer<typeof SilenceMatch>;

export const SilencePut = z
  .object({
    match: SilenceMatch,
    startsAt: IsoDate,
    endsAt: IsoDate,
    reason: z.string().trim().min(1, 'must not be empty').max(SILENCE_REASON_MAX),
  })
  .superRefine((s, ctx) => {
    const start = Date.parse(s.startsAt);
    const end = Date.parse(s.endsAt);
    if (!(end > start)) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'must be after startsAt' });
    } else if (end - start > SILENCE_MAX_MS) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'must be at most 366 days after startsAt' });
    }
  });
export type SilencePut = z.infer<typeof SilencePut>;

export const Silence = z.object({
  silenceId: Id,
  match: SilenceMatch,
  startsAt: IsoDate,
  endsAt: IsoDate,
  reason: z.string(),
  createdAt: IsoDate,
  updatedAt: IsoDate,
  endedAt: IsoDate.nullable().describe('set by DELETE: the silence ended early'),
  active: z.boolean().describe('startsAt <= now < endsAt and not ended, at the time of the request'),
});
export type Silence = z.infer<typeof Silence>;

export const SilenceList = z.object({ silences: z.array(Silence), nextCursor: NextCursor });
export type SilenceList = z.infer<typeof SilenceList>;
export const SilenceListQuery = PageQuery.extend({
  active: z.enum(['true', 'false']).optional().describe('true: only the silences active now'),
});
export type SilenceListQuery = z.infer<typeof SilenceListQuery>;

// ---------------------------------------------------------------- recorded events (GET /v1/events)
export const EventDelivery = z.object({
  channelId: z.string(),
  action: z.enum(['send', 'skip', 'record-only']).describe("what the channel's filters and the event's marks decided"),
  reason: z.string().optional(),
  state: z
    .enum(['queued', 'delivered', 'dead'])
    .optional()
    .describe('send only: queued (waiting or retrying), delivered (off the queue), dead (refused or given up)'),
  attempts: z.number().int().min(0).optional().describe('queued only: failed attempts so far'),
  nextAttemptAt: IsoDate.optional(),
});
export type EventDelivery = z.infer<typeof EventDelivery>;

export const RecordedEvent = z.object({
  event: VigilEvent,
  recordedAt: IsoDate,
  sendable: z.boolean().describe('false: recorded with a silenced or suppressed mark, sent to no channel'),
  deliveries: z.array(EventDelivery).nullable().describe('per channel; null while the event is being routed'),
});
export type RecordedEvent = z.infer<typeof RecordedEvent>;

export const EventList = z.object({ events: z.array(RecordedEvent), nextCursor: NextCursor });
export type EventList = z.infer<typeof EventList>;
export const EventListQuery = PageQuery.extend({
  partitionId: Id.optional(),
  computerId: Id.optional(),
  type: EventType.optional(),
});
export type EventListQuery = z.infer<typeof EventListQuery>;
