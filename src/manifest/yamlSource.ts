// YAML documents with their source positions kept, so that every later error
// can say FILE:LINE:COL. Pure: takes text, returns plain data plus a locator.
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseAllDocuments } from "yaml";

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
}

export interface ParsedYamlFile {
  documents: YamlDocument[];
  syntaxErrors: YamlSyntaxError[];
}

export function parseYamlFile(text: string): ParsedYamlFile {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const documents: YamlDocument[] = [];
  const syntaxErrors: YamlSyntaxError[] = [];
  const list = Array.isArray(docs) ? docs : [];
  list.forEach((doc, index) => {
    for (const error of doc.errors) {
      syntaxErrors.push({ message: firstLine(error.message), position: at(error.pos[0]) });
    }
    if (doc.errors.length > 0) return;
    // A document with only comments (or `---` at the end of a file) holds nothing.
    if (doc.contents === null) return;
    const root = doc.contents as Node;
    const startOffset = root.range?.[0] ?? 0;
    documents.push({
      index,
      value: doc.toJS({ maxAliasCount: 100 }),
      start: at(startOffset),
      locate: (path, options) => at(locateOffset(root, path, options?.key ?? false)),
    });
  });
  return { documents, syntaxErrors };
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
