import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The layering of DESIGN.md: data flows one way, so the graph of `src/` folders (an import from
 * one top-level folder into another is an edge) has no cycle, and `domain/` imports nothing.
 */
const SRC = resolve(__dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const folderOf = (file: string): string => relative(SRC, file).split('/')[0];

function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(SRC)) {
    const from = folderOf(file);
    if (from.endsWith('.ts')) continue;
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/from\s+'(\.[^']+)'/g)) {
      const to = folderOf(resolve(dirname(file), spec));
      if (to !== from && !to.endsWith('.ts') && !to.startsWith('..')) edges.add(to);
    }
  }
  return graph;
}

/** A cycle of folders, or null. */
function findCycle(graph: Map<string, Set<string>>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

describe('module layers', () => {
  const graph = folderGraph();

  it('has no cycle between the folders of src/', () => {
    expect(findCycle(graph)).toBeNull();
  });

  it('keeps the domain vocabulary free of imports', () => {
    expect([...(graph.get('domain') ?? [])]).toEqual([]);
  });

  it('keeps providers out of the domain modules and ingestion', () => {
    const providerDeps = [...(graph.get('whatsapp') ?? [])];
    for (const domainFolder of ['sessions', 'chats', 'messages', 'ingestion']) expect(providerDeps).not.toContain(domainFolder);
  });

  it('finds a cycle where there is one', () => {
    const cyclic = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
    ]);
    expect(findCycle(cyclic)).toEqual(['a', 'b', 'c', 'a']);
  });
});
