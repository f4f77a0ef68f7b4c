export * from './bangs.ts';
export * from './colours.ts';
export * from './crimes.ts';
export * from './quota.ts';
export * from './records.ts';
export * from './reports.ts';
export * from './reprocess.ts';
export * from './transitions.ts';
