import type { BuildOptions, Metafile } from 'esbuild';
export declare const HANDLERS: readonly ['api', 'fanout', 'sweep'];
export declare function lambdaBuildOptions(name: string, outdir: string): BuildOptions;
export declare function bundleLambda(name: string, outdir: string): Promise<Metafile>;
