// The notification pages (SPEC §3 "Notifications"): recorded events and what became of
// them, silences, channels with their last delivery and backlog; and the marks other pages
// show are in layout.tsx (a silence holding a page's notifications, a flapping partition). Views only: the
// data comes fetched (one API page of each list), no I/O here.
import type { Channel, RecordedEvent, Silence } from '../../protocol/events.ts';
import type { Page } from './data.ts';
import { Ago, Badge, ComputerLink, Layout, PartitionLink, SILENCE_REASON_SHOWN, SilenceMatchText, TreeLink } from './layout.tsx';
import { channelHealth, EVENT_TYPE_LABEL, eventColour, eventStatus, eventSummary, silenceState } from './notify-view.ts';
import { FilterForm, Pager } from './pages.tsx';
import { type ListParams, pagerLinks, TABLE_SIZES } from './paging.ts';
import { formatTime } from './view-model.ts';

const cut = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

// --------------------------------------------------------------------------------------- events

export function EventsPage(props: { now: Date; params: ListParams; events: Page<RecordedEvent> }) {
  const { now, params: p, events } = props;
  const held = events.items.filter((r) => r.event.silenced || r.event.suppressed).length;
  return (
    <Layout title="Events" section="events" now={now}>
      <h1>Events{p.partition ? ` of partition ${p.partition}` : p.computer ? ` of computer ${p.computer}` : ''}</h1>
      <FilterForm action="/events" params={p} fields={['partition', 'computer']} />
      <p class="meta">
        Newest first · {held} of {events.items.length} on this page held back (silenced, or folded into another event) · channels and
        their backlog: <a href="/channels">Channels</a> · <a href="/silences">Silences</a>
      </p>
      {events.items.length === 0 ? (
        <p class="empty">{p.cursor ? 'No event on this page.' : 'No event recorded.'}</p>
      ) : (
        <table class="stack" id="events">
          <thead>
            <tr>
              <th>Time</th>
              <th>Event</th>
              <th>About</th>
              <th>What happened</th>
              <th>Notification</th>
            </tr>
          </thead>
          <tbody>
            {events.items.map((r) => {
              const e = r.event;
              const colour = eventColour(e);
              const status = eventStatus(r);
              return (
                <tr data-event={e.eventId} data-type={e.type} data-status={status.kind}>
                  <td data-label="Time">
                    {formatTime(e.at)} (<Ago at={e.at} now={now} />)
                  </td>
                  <td data-label="Event">
                    {EVENT_TYPE_LABEL[e.type]} {colour ? <Badge colour={colour} /> : ''}
                  </td>
                  <td data-label="About">
                    {'partitionId' in e && e.partitionId ? (
                      <>
                        partition <PartitionLink id={e.partitionId} />
                        <br />
                      </>
                    ) : (
                      ''
                    )}
                    {'instanceTreeId' in e && e.instanceTreeId ? (
                      <>
                        tree <TreeLink id={e.instanceTreeId} />
                        <br />
                      </>
                    ) : (
                      ''
                    )}
                    computer <ComputerLink id={e.computerId} />
                  </td>
                  <td data-label="What happened">
                    <code class="msg">{eventSummary(e)}</code>
                  </td>
                  <td data-label="Notification" class={status.kind === 'dead' ? 'red' : ''}>
                    {status.text}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <Pager links={pagerLinks('/events', p, TABLE_SIZES.events, events.items.length, events.nextCursor)} noun="events" />
    </Layout>
  );
}

// --------------------------------------------------------------------------------------- silences

export function SilencesPage(props: { now: Date; params: ListParams; silences: Page<Silence> }) {
  const { now, params: p, silences } = props;
  const active = silences.items.filter((s) => s.active).length;
  return (
    <Layout title="Silences" section="silences" now={now}>
      <h1>Silences</h1>
      <p class="meta">
        While a silence is active, events about what it matches are recorded and not sent (colours are unchanged). A silence of a
        computer holds its partitions' events too. Set one with <code>vigil admin silence set</code> or{' '}
        <code>PUT /v1/silences/&#123;id&#125;</code>; end it early with <code>vigil admin silence end</code>. {active} active on this page.
      </p>
      {silences.items.length === 0 ? (
        <p class="empty">{p.cursor ? 'No silence on this page.' : 'No silence.'}</p>
      ) : (
        <table class="stack" id="silences">
          <thead>
            <tr>
              <th>Silence</th>
              <th>State</th>
              <th>Matches</th>
              <th>From</th>
              <th>Until</th>
              <th>Reason</th>
            </tr>
          </thead>
          <tbody>
            {silences.items.map((s) => {
              const state = silenceState(s, now);
              return (
                <tr data-silence={s.silenceId} data-state={state}>
                  <td data-label="Silence">
                    <code>{s.silenceId}</code>
                  </td>
                  <td data-label="State">
                    <span class={`badge ${state === 'active' ? 'orange' : 'grey'}`}>{state}</span>
                  </td>
                  <td data-label="Matches">
                    <SilenceMatchText silence={s} />
                  </td>
                  <td data-label="From">{formatTime(s.startsAt)}</td>
                  <td data-label="Until">
                    {formatTime(s.endedAt && s.endedAt < s.endsAt ? s.endedAt : s.endsAt)}
                    {s.endedAt && s.endedAt < s.endsAt ? ' (ended early)' : ''}
                  </td>
                  <td data-label="Reason">{cut(s.reason, SILENCE_REASON_SHOWN)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <Pager links={pagerLinks('/silences', p, TABLE_SIZES.silences, silences.items.length, silences.nextCursor)} noun="silences" />
    </Layout>
  );
}

// --------------------------------------------------------------------------------------- channels

export function ChannelsPage(props: { now: Date; params: ListParams; channels: Page<Channel> }) {
  const { now, params: p, channels } = props;
  return (
    <Layout title="Channels" section="channels" now={now}>
      <h1>Channels</h1>
      <p class="meta">
        Where events are sent (webhooks signed with <code>X-Vigil-Signature</code>, Slack incoming webhooks); each delivery is retried
        with back-off for at least 24 h. Set one with <code>vigil admin channel set</code>. URLs are shown masked.
      </p>
      {channels.items.length === 0 ? (
        <p class="empty">{p.cursor ? 'No channel on this page.' : 'No channel: events are recorded only (see Events).'}</p>
      ) : (
        <table class="stack" id="channels">
          <thead>
            <tr>
              <th>Channel</th>
              <th>Kind</th>
              <th>URL</th>
              <th>Takes</th>
              <th>Last delivery</th>
              <th class="num">Backlog</th>
              <th class="num">Dead</th>
            </tr>
          </thead>
          <tbody>
            {channels.items.map((c) => {
              const health = channelHealth(c);
              const last = c.lastDelivery;
              return (
                <tr data-channel={c.channelId} data-health={health} class={health === 'failing' || health === 'dead' ? 'red' : ''}>
                  <td data-label="Channel">
                    <code>{c.channelId}</code>
                  </td>
                  <td data-label="Kind">{c.kind}</td>
                  <td data-label="URL">
                    <code class="msg">{c.url}</code>
                  </td>
                  <td data-label="Takes">
                    {c.events ? c.events.map((t) => EVENT_TYPE_LABEL[t]).join(', ') : 'every event'}
                    {c.instanceTreeId ? (
                      <>
                        {' '}
                        of tree <TreeLink id={c.instanceTreeId} />
                      </>
                    ) : (
                      ''
                    )}
                  </td>
                  <td data-label="Last delivery">
                    {last ? (
                      <>
                        <span class={`badge ${last.ok ? 'green' : 'red'}`}>{last.ok ? 'ok' : 'failed'}</span>{' '}
                        {last.status !== undefined ? `HTTP ${last.status} ` : ''}
                        {last.error ? cut(last.error, 200) : ''} (<Ago at={last.at} now={now} />)
                      </>
                    ) : (
                      <span class="empty">none yet</span>
                    )}
                  </td>
                  <td class="num" data-label="Backlog">
                    {c.backlog}
                  </td>
                  <td class="num" data-label="Dead" title={c.dead?.last ? `last: ${c.dead.last.error}` : undefined}>
                    {c.dead?.count ?? 0}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <Pager links={pagerLinks('/channels', p, TABLE_SIZES.channels, channels.items.length, channels.nextCursor)} noun="channels" />
    </Layout>
  );
}
