// Parsed templates by body: the engine reads a stack's template on every
// step, and parsing it each time would be wasted work.
import { parseTemplate, type Template } from "./template.js";

const MAX = 256;
const cache = new Map<string, Template>();

/** The parsed template of a body that was checked when it was submitted. */
export function templateOf(body: string): Template {
  let template = cache.get(body);
  if (!template) {
    template = parseTemplate(body);
    if (cache.size >= MAX) cache.delete(cache.keys().next().value as string);
    cache.set(body, template);
  }
  return template;
}

export type { Template };
