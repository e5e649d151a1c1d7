// Narrows the routes a request can match to a few rank-sorted lists: by host (exact, wildcard), then by path prefix.
import type { RouteEntry } from './route-entry.js';

/** A node of a compressed prefix tree over path strings; `entries` are those whose required prefix ends here. */
interface PrefixNode {
  /** The characters this node adds to its parent's prefix. */
  label: string;
  entries: RouteEntry[];
  children: Map<number, PrefixNode>;
}

function newNode(label: string): PrefixNode {
  return { label, entries: [], children: new Map() };
}

/** Longest common prefix length of `a` and `b[from..]`. */
function commonLength(a: string, b: string, from: number): number {
  let n = 0;
  while (n < a.length && from + n < b.length && a.charCodeAt(n) === b.charCodeAt(from + n)) n += 1;
  return n;
}

/**
 * Entries keyed by the prefix every matching request path starts with (a prefix path itself, a regex path's
 * literal start, '' for routes without a path). A lookup walks the tree once along the request path.
 */
export class PrefixTree {
  private readonly root = newNode('');

  insert(prefix: string, entry: RouteEntry): void {
    let node = this.root;
    let pos = 0;
    while (pos < prefix.length) {
      const child = node.children.get(prefix.charCodeAt(pos));
      if (!child) {
        const leaf = newNode(prefix.slice(pos));
        node.children.set(prefix.charCodeAt(pos), leaf);
        node = leaf;
        pos = prefix.length;
        break;
      }
      const common = commonLength(child.label, prefix, pos);
      if (common < child.label.length) {
        // Split the child: the shared part becomes a new node above it.
        const upper = newNode(child.label.slice(0, common));
        child.label = child.label.slice(common);
        upper.children.set(child.label.charCodeAt(0), child);
        node.children.set(upper.label.charCodeAt(0), upper);
        node = upper;
      } else {
        node = child;
      }
      pos += common;
    }
    node.entries.push(entry);
  }

  /** Pushes onto `out` the entry lists of every node whose prefix the path starts with, shortest first. */
  collect(path: string, out: RouteEntry[][]): void {
    let node: PrefixNode | undefined = this.root;
    let pos = 0;
    while (node) {
      if (node.entries.length > 0) out.push(node.entries);
      if (pos >= path.length) return;
      node = node.children.get(path.charCodeAt(pos));
      if (!node || !path.startsWith(node.label, pos)) return;
      pos += node.label.length;
    }
  }

  /** Sorts every list by rank once all entries are in. */
  seal(): void {
    const stack = [this.root];
    for (let node = stack.pop(); node; node = stack.pop()) {
      node.entries.sort((a, b) => a.rank - b.rank);
      for (const child of node.children.values()) stack.push(child);
    }
  }
}

function prefixOf(entry: RouteEntry): string {
  const path = entry.path;
  if (path === null) return '';
  return path.kind === 'prefix' ? path.value : path.literalPrefix;
}

/** Host buckets, each with its path tree. Wildcard hosts are found by walking the request host's dots. */
export class RouteIndex {
  private readonly exact = new Map<string, PrefixTree>();
  /** `*.example.com` under `.example.com`. */
  private readonly suffix = new Map<string, PrefixTree>();
  /** `example.*` under `example.`. */
  private readonly prefix = new Map<string, PrefixTree>();
  /** Routes without hosts. */
  private readonly anyHost = new PrefixTree();
  private readonly trees: PrefixTree[] = [this.anyHost];

  private bucket(map: Map<string, PrefixTree>, key: string): PrefixTree {
    let tree = map.get(key);
    if (!tree) {
      tree = new PrefixTree();
      map.set(key, tree);
      this.trees.push(tree);
    }
    return tree;
  }

  add(entry: RouteEntry): void {
    const key = prefixOf(entry);
    if (!entry.hosts) {
      this.anyHost.insert(key, entry);
      return;
    }
    // A route listing the same host twice (with and without a port) goes into that bucket once.
    const seen = new Set<PrefixTree>();
    for (const rule of entry.hosts) {
      const map = rule.kind === 'exact' ? this.exact : rule.kind === 'suffix' ? this.suffix : this.prefix;
      const tree = this.bucket(map, rule.name);
      if (seen.has(tree)) continue;
      seen.add(tree);
      tree.insert(key, entry);
    }
  }

  seal(): void {
    for (const tree of this.trees) tree.seal();
  }

  /** The rank-sorted lists that hold every entry this host and path could match. */
  candidates(host: string, path: string): RouteEntry[][] {
    const out: RouteEntry[][] = [];
    this.exact.get(host)?.collect(path, out);
    if (this.suffix.size > 0 || this.prefix.size > 0) {
      for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
        if (dot > 0) this.suffix.get(host.slice(dot))?.collect(path, out);
        if (dot < host.length - 1) this.prefix.get(host.slice(0, dot + 1))?.collect(path, out);
      }
    }
    this.anyHost.collect(path, out);
    return out;
  }
}
