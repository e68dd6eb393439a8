// Jest's transformer for TypeScript. The files the @nestjs/swagger plugin rewrites (DTOs and
// controllers, as nest-cli.json configures it) go through ts-jest's language service with the
// same plugin the build uses, so the tested OpenAPI document is the real one. Every other file is
// transpiled on its own, which costs a fraction of that: it needs no type information.
const { TsJestTransformer } = require('ts-jest');
const nestCli = require('../../nest-cli.json');

const swagger = nestCli.compilerOptions.plugins.find((p) => p.name === '@nestjs/swagger').options;
const pluginSuffixes = [
  ...(swagger.dtoFileNameSuffix ?? ['.dto.ts', '.entity.ts']),
  ...(swagger.controllerFileNameSuffix ?? ['.controller.ts']),
];
// The plugin's own test (see @nestjs/swagger/dist/plugin/utils/is-filename-matched.util.js).
const needsPlugin = (path) => pluginSuffixes.some((suffix) => path.includes(suffix));

const withPlugin = new TsJestTransformer({
  tsconfig: 'tsconfig.json',
  diagnostics: false,
  astTransformers: { before: [require.resolve('./swagger-plugin.transformer.js')] },
});
const transpileOnly = new TsJestTransformer({ tsconfig: { isolatedModules: true }, diagnostics: false });

// ts-jest keeps one configuration per Jest project configuration: the transpiling transformer
// sees a marked copy of it, so that it gets a configuration (and cache keys) of its own.
const marked = new WeakMap();
function forTranspiling(options) {
  let config = marked.get(options.config);
  if (!config) {
    config = { ...options.config, globals: { ...options.config.globals, transpileOnly: true } };
    marked.set(options.config, config);
  }
  return { ...options, config };
}

function route(path, options) {
  return needsPlugin(path) ? [withPlugin, options] : [transpileOnly, forTranspiling(options)];
}

module.exports = {
  getCacheKey(source, path, options) {
    const [transformer, routed] = route(path, options);
    return transformer.getCacheKey(source, path, routed);
  },
  process(source, path, options) {
    const [transformer, routed] = route(path, options);
    return transformer.process(source, path, routed);
  },
};
