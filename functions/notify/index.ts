// Notifications (SPEC §3, docs/notifications.md): store-independent rules and the delivery
// client. Wire schemas are in protocol/events.ts; flapping and silences in functions/domain/.
export * from './backoff.ts';
export * from './channels.ts';
export * from './deliver.ts';
export * from './derive.ts';
export * from './event-id.ts';
export * from './format.ts';
export * from './links.ts';
export * from './queue-rules.ts';
export * from './route.ts';
