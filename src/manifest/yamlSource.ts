// YAML documents with their source positions kept, so that every later error
// can say FILE:LINE:COL. Pure: takes text, returns plain data plus a locator.
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseAllDocuments } from "yaml";

/**
 * How many aliases a document may dereference. An alias bomb (a billion laughs)
 * expands each alias into many copies; a manifest needs few, if any.
 */
const MAX_ALIAS_COUNT = 100;

export interface Position {
  line: number;
  column: number;
}

export interface YamlDocument {
  /** 0-based index within the file. */
  index: number;
  /** The document as plain JSON-like data. */
  value: unknown;
  /** Where the document starts. */
  start: Position;
  /**
   * Position of the node at a JSON-pointer-like path (["spec","size"]). With
   * `key: true`, the position of the map key instead of its value (for unknown
   * or missing fields). Falls back to the nearest existing ancestor.
   */
  locate(path: readonly (string | number)[], options?: { key?: boolean }): Position;
}

export interface YamlSyntaxError {
  message: string;
  position: Position;
  /** yaml.syntax, yaml.duplicateKey, yaml.aliases, yaml.tooDeep: a stable id for the rule. */
  rule: string;
}

export interface ParsedYamlFile {
  documents: YamlDocument[];
  syntaxErrors: YamlSyntaxError[];
}

export function parseYamlFile(text: string): ParsedYamlFile {
  const lineCounter = new LineCounter();
  // uniqueKeys: the yaml package compares each key with every earlier one of its
  // map (quadratic: 100k keys took minutes); duplicateKeys below does it in one pass.
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const documents: YamlDocument[] = [];
  const syntaxErrors: YamlSyntaxError[] = [];
  const list = Array.isArray(docs) ? docs : [];
  list.forEach((doc, index) => {
    for (const error of doc.errors) {
      syntaxErrors.push({
        message: firstLine(error.message),
        position: at(error.pos[0]),
        rule: "yaml.syntax",
      });
    }
    if (doc.errors.length > 0) return;
    // A document with only comments (or `---` at the end of a file) holds nothing.
    if (doc.contents === null) return;
    const root = doc.contents as Node;
    const startOffset = root.range?.[0] ?? 0;
    const duplicates = duplicateKeys(root);
    for (const { key, offset } of duplicates) {
      syntaxErrors.push({
        message: `the key ${JSON.stringify(key)} appears twice in one map`,
        position: at(offset),
        rule: "yaml.duplicateKey",
      });
    }
    if (duplicates.length > 0) return;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      // An alias bomb, or nesting deeper than the stack: this document only.
      const tooDeep = error instanceof RangeError;
      syntaxErrors.push({
        message: tooDeep
          ? "the document is nested too deeply to read"
          : `${firstLine(error instanceof Error ? error.message : String(error))} (aliases expand to more than ${MAX_ALIAS_COUNT} copies)`,
        position: at(startOffset),
        rule: tooDeep ? "yaml.tooDeep" : "yaml.aliases",
      });
      return;
    }
    documents.push({
      index,
      value,
      start: at(startOffset),
      locate: (path, options) => at(locateOffset(root, path, options?.key ?? false)),
    });
  });
  return { documents, syntaxErrors };
}

/**
 * Keys written twice in one map, found in one pass over the document (a Set per
 * map, an explicit stack instead of recursion), so the time grows with the size.
 */
function duplicateKeys(root: Node): { key: string; offset: number }[] {
  const found: { key: string; offset: number }[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          const key = String(pair.key.value);
          if (seen.has(key)) found.push({ key, offset: pair.key.range?.[0] ?? 0 });
          seen.add(key);
        }
        if (pair.value) stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  return found.sort((a, b) => a.offset - b.offset);
}

function locateOffset(root: Node, path: readonly (string | number)[], key: boolean): number {
  let node: unknown = root;
  let offset = root.range?.[0] ?? 0;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === segment);
      if (!pair) return offset;
      const keyNode = pair.key as Node;
      if (last && key) return keyNode.range?.[0] ?? offset;
      node = pair.value;
      offset = (pair.value as Node | null)?.range?.[0] ?? keyNode.range?.[0] ?? offset;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment] as Node | undefined;
      if (!item) return offset;
      node = item;
      offset = item.range?.[0] ?? offset;
    } else {
      return offset;
    }
  }
  return offset;
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}
