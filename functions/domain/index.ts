export * from './colours.ts';
export * from './crimes.ts';
export * from './quota.ts';
export * from './report-input.ts';
