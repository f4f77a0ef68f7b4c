export * from './colours.ts';
export * from './crimes.ts';
export * from './quota.ts';
