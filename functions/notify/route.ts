// Which channel gets which event, pure. Events carry their marks (silenced, suppressed) from
// the moment they were recorded (derive.ts); a channel adds its own filters.
import type { EventType, VigilEvent } from '../../protocol/events.ts';

export interface ChannelFilter {
  /** null: every type. */
  events: readonly EventType[] | null;
  /** null: every tree. */
  instanceTreeId: string | null;
}

export type RouteDecision =
  | { action: 'send' }
  /** The channel does not want this kind of event: nothing is queued for it. */
  | { action: 'skip'; reason: 'type' | 'tree'; message: string }
  /** The channel wants it, but the event is held back: recorded, not sent. */
  | { action: 'record-only'; reason: 'silenced' | 'suppressed'; message: string };

/**
 * Does the event concern the tree? A computer's event concerns the trees of its partitions;
 * when the list in the event was cut (more than 100 trees), it is taken to concern every
 * tree, so that a tree-filtered channel never misses its computer going down.
 */
export function concernsTree(event: VigilEvent, treeId: string): boolean {
  if (event.type === 'computer.colour') {
    return event.data.instanceTreeIds.includes(treeId) || event.data.instanceTreeCount > event.data.instanceTreeIds.length;
  }
  return event.instanceTreeId === treeId;
}

export function route(event: VigilEvent, channel: ChannelFilter): RouteDecision {
  if (channel.events !== null && !channel.events.includes(event.type)) {
    return { action: 'skip', reason: 'type', message: `the channel does not take ${event.type} events` };
  }
  if (channel.instanceTreeId !== null && !concernsTree(event, channel.instanceTreeId)) {
    return { action: 'skip', reason: 'tree', message: `the event does not concern instance tree ${channel.instanceTreeId}` };
  }
  if (event.suppressed) {
    const { by, id } = event.suppressed;
    const message =
      by === 'computer'
        ? `folded into the event of computer ${id} (orange or red)`
        : by === 'bang'
          ? `folded into the bang.accepted event of bang ${id}`
          : by === 'flapping'
            ? `partition ${id} is flapping (only flapping.started/stopped are sent)`
            : `back to the colour receivers were last told for ${id}`;
    return { action: 'record-only', reason: 'suppressed', message };
  }
  if (event.silenced) {
    return { action: 'record-only', reason: 'silenced', message: `silenced by ${event.silenced.silenceId}: ${event.silenced.reason}` };
  }
  return { action: 'send' };
}
