// What a channel receives: the webhook body (the event JSON, the exact bytes signed) and the
// Slack-compatible message (incoming-webhook `{text, blocks}`), one formatter per event type.
import type { Colour } from '../../protocol/index.ts';
import { type EventOf, type EventType, VigilEvent } from '../../protocol/events.ts';

/**
 * The webhook body. The event goes through its schema first, so keys always come in schema
 * order: the bytes of an event read back from the store (where maps have no order) are the
 * bytes first sent, retries included.
 */
export function webhookBody(event: VigilEvent): string {
  return JSON.stringify(VigilEvent.parse(event));
}

// ---------------------------------------------------------------- Slack
export interface SlackTextObject {
  type: 'mrkdwn';
  text: string;
}
export type SlackBlock = { type: 'section'; text: SlackTextObject } | { type: 'context'; elements: SlackTextObject[] };
export interface SlackMessage {
  /** Notification / fallback text (mrkdwn). */
  text: string;
  blocks: SlackBlock[];
}

/** Slack's limit for a section's text; the fallback `text` is kept under it too. */
export const SLACK_SECTION_MAX = 3000;
/** Agent-controlled text (reasons, bang messages) shown in Slack, at most. */
export const SLACK_AGENT_TEXT_MAX = 1000;
/** Partitions named in a Slack message, at most (the webhook has up to 100). */
export const SLACK_LIST_MAX = 20;

/** ALM, LRM, RLM, the embeddings/overrides LRE RLE PDF LRO RLO and the isolates LRI RLI FSI PDI. */
export const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/** As the dashboard: each bidi control becomes a visible marker such as [U+202E]. */
export function neutraliseBidi(text: string): string {
  return text.replace(BIDI_CONTROLS, (ch) => `[U+${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);
}

/**
 * Text safe inside Slack mrkdwn: bidi controls made visible, then `&`, `<`, `>` escaped (so
 * agent text cannot open a link, a mention such as <!channel>, or close ours).
 */
export function slackEscape(text: string): string {
  return neutraliseBidi(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `<url|label>`, with the URL unable to end the link early and the label escaped. */
export function slackLink(url: string, label: string): string {
  const safeUrl = url.replace(/[|<>\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`).replace(/&/g, '&amp;');
  return `<${safeUrl}|${slackEscape(label)}>`;
}

/** Long agent text keeps its end (where errors usually say what went wrong). */
function clipEnd(text: string, max = SLACK_AGENT_TEXT_MAX): string {
  const one = text.trim();
  return one.length > max ? `…${one.slice(one.length - (max - 1))}` : one;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Never a colour alone: an emoji and a word, as the dashboard's badges (OK / LATE / FAIL). */
export const COLOUR_EMOJI: Record<Colour, string> = { green: '🟢', orange: '🟠', red: '🔴' };
export const COLOUR_WORD: Record<Colour, string> = { green: 'OK', orange: 'LATE', red: 'FAIL' };
export function colourLabel(c: Colour): string {
  return `${COLOUR_EMOJI[c]} ${COLOUR_WORD[c]} (${c})`;
}

/** "2025-05-01 10:00:00Z" (UTC, like the dashboard's tables). */
export function formatUtc(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** An id in a code span (ids are [A-Za-z0-9._:@-], never a backtick; escaped anyway). */
const code = (id: string): string => `\`${slackEscape(id)}\``;
const quote = (text: string): string =>
  clipEnd(text)
    .split('\n')
    .map((l) => `>${slackEscape(l)}`)
    .join('\n');

function context(event: VigilEvent, extra: string[]): SlackBlock {
  const parts = [...extra, `at ${formatUtc(event.at)}`, `event ${code(event.eventId)}`];
  return { type: 'context', elements: [{ type: 'mrkdwn', text: clip(parts.join(' · '), SLACK_SECTION_MAX) }] };
}

const section = (text: string): SlackBlock => ({ type: 'section', text: { type: 'mrkdwn', text: clip(text, SLACK_SECTION_MAX) } });

function message(headline: string, blocks: SlackBlock[]): SlackMessage {
  return { text: clip(headline, SLACK_SECTION_MAX), blocks };
}

/** The first SLACK_LIST_MAX items, then "… and N more" up to `total`. */
function namedList(rendered: readonly string[], total: number): string {
  const shown = rendered.slice(0, SLACK_LIST_MAX);
  const more = total - shown.length;
  return shown.join(', ') + (more > 0 ? ` … and ${more} more` : '');
}

type Formatters = { [T in EventType]: (e: EventOf<T>) => SlackMessage };

const FORMATTERS: Formatters = {
  'partition.colour': (e) => {
    const { from, to, reason, since } = e.data;
    const where = `partition ${slackLink(e.link, e.partitionId)} of tree ${code(e.instanceTreeId)} on computer ${code(e.computerId)}`;
    return message(`${colourLabel(to)}: partition ${slackEscape(e.partitionId)}: ${slackEscape(clipEnd(reason, 300))}`, [
      section(`${colourLabel(to)}  ${where}\n${quote(reason)}`),
      context(e, [`was ${colourLabel(from)}`, `since ${formatUtc(since)}`]),
    ]);
  },
  'computer.colour': (e) => {
    const { from, to, reason, since, partitions, partitionCount } = e.data;
    const blocks: SlackBlock[] = [section(`${colourLabel(to)}  computer ${slackLink(e.link, e.computerId)}\n${quote(reason)}`)];
    if (partitionCount > 0) {
      const list = namedList(
        partitions.map((p) => `${code(p.partitionId)} ${COLOUR_EMOJI[p.colour]} ${COLOUR_WORD[p.colour]}`),
        partitionCount,
      );
      const head = to === 'green' ? `${partitionCount} partition${partitionCount === 1 ? '' : 's'}` : `${partitionCount} partition${partitionCount === 1 ? '' : 's'} affected (their own events are held back meanwhile)`;
      blocks.push(section(`${head}: ${list}`));
    }
    blocks.push(context(e, [`was ${colourLabel(from)}`, `since ${formatUtc(since)}`]));
    return message(`${colourLabel(to)}: computer ${slackEscape(e.computerId)}: ${slackEscape(clipEnd(reason, 300))}`, blocks);
  },
  'bang.accepted': (e) => {
    const d = e.data;
    const list = namedList(d.partitions.map(code), d.partitionCount);
    return message(
      `💥 Bang on partition ${slackEscape(e.partitionId)} (${d.source}): reprocessing tree ${slackEscape(e.instanceTreeId)}, ${d.fannedOutTo} partition${d.fannedOutTo === 1 ? '' : 's'}`,
      [
        section(
          `💥 *Bang accepted* from partition ${code(e.partitionId)} (${d.source}) on computer ${code(e.computerId)}: tree ${slackLink(e.link, e.instanceTreeId)} is being reprocessed\n${quote(d.message || '(no message)')}`,
        ),
        section(`${d.fannedOutTo} of ${d.partitionCount} partition${d.partitionCount === 1 ? '' : 's'} flagged for reprocess: ${list}`),
        context(e, [`bang ${code(d.bangId)}`]),
      ],
    );
  },
  'bang.rejected': (e) => {
    const d = e.data;
    return message(
      `⛔ Bang refused: partition ${slackEscape(e.partitionId)} is over its daily quota (${d.quotaPerDay}/day); nothing reprocessed until ${formatUtc(d.retryAfter)}`,
      [
        section(
          `⛔ *Bang refused* (over the daily quota of ${d.quotaPerDay}): partition ${slackLink(e.link, e.partitionId)} of tree ${code(e.instanceTreeId)} on computer ${code(e.computerId)} (${d.source}); nothing was reprocessed, next bang possible from ${formatUtc(d.retryAfter)}\n${quote(d.message || '(no message)')}`,
        ),
        context(e, [`bang ${code(d.bangId)}`]),
      ],
    );
  },
  'flapping.started': (e) => {
    const d = e.data;
    return message(`🔁 Partition ${slackEscape(e.partitionId)} is flapping (${d.percentStateChange} % state change); colour events paused`, [
      section(
        `🔁 *Flapping*: partition ${slackLink(e.link, e.partitionId)} of tree ${code(e.instanceTreeId)} changed colour in ${d.percentStateChange} % of its recent states (above ${d.threshold} %). Its colour events are paused until it is stable.\nNow ${colourLabel(d.colour)}\n${quote(d.reason)}`,
      ),
      context(e, [`computer ${code(e.computerId)}`]),
    ]);
  },
  'flapping.stopped': (e) => {
    const d = e.data;
    return message(`⏹️ Partition ${slackEscape(e.partitionId)} stopped flapping; now ${colourLabel(d.colour)}`, [
      section(
        `⏹️ *Stopped flapping*: partition ${slackLink(e.link, e.partitionId)} of tree ${code(e.instanceTreeId)} (${d.percentStateChange} % state change, below ${d.threshold} %). Colour events resume.\nNow ${colourLabel(d.colour)}\n${quote(d.reason)}`,
      ),
      context(e, [`computer ${code(e.computerId)}`]),
    ]);
  },
};

export function slackMessage(event: VigilEvent): SlackMessage {
  const f = FORMATTERS[event.type] as (e: VigilEvent) => SlackMessage;
  return f(event);
}

/** The body a channel of this kind receives. */
export function channelBody(kind: 'webhook' | 'slack', event: VigilEvent): string {
  return kind === 'slack' ? JSON.stringify(slackMessage(event)) : webhookBody(event);
}
