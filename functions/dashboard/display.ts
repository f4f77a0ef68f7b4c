// Text from agents (promise names and titles, messages, errors, agent versions) is shown
// on every page. Bidirectional-text controls in it could make a name read differently
// from what it is ("evil\u202Egnp.json" displays as "eviljson.png"), so every page is sent
// through `neutraliseBidi`, which replaces each control with a visible marker such as
// [U+202E]. The JSON API keeps the data as sent.

/** ALM, LRM, RLM, the embeddings/overrides LRE RLE PDF LRO RLO and the isolates LRI RLI FSI PDI. */
export const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

export function neutraliseBidi(text: string): string {
  return text.replace(BIDI_CONTROLS, (ch) => `[U+${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);
}
