// template-svc names the offending placeholder and its position ("body.base_template: unknown placeholder {nmae}
// at position 3; known fields: ..."): find the span it names, so the form can mark it inside the template.

export interface TemplateProblem {
  /** template-svc's code for the problem (UNKNOWN_PLACEHOLDER, ...), when the message starts with one. */
  code: string | null;
  message: string;
  /** Where the problem starts in the template, when the message names a position. */
  start: number | null;
  /** Where it ends (exclusive): the whole placeholder when one is named, else one character. */
  end: number | null;
}

const FIELD_PREFIX = /^(?:body\.)?(?:base_template|override_template|template):\s*/;

export function locateTemplateProblem(template: string, message: string): TemplateProblem {
  let text = message.replace(FIELD_PREFIX, '').replace(/^invalid template:\s*/, '');
  const coded = /^([A-Z][A-Z0-9_]+):\s*/.exec(text);
  const code = coded?.[1] ?? null;
  if (coded !== null) text = text.slice(coded[0].length);
  const position = /at position (\d+)/.exec(text);
  if (position?.[1] === undefined) return { code, message: text, start: null, end: null };
  const start = Number(position[1]);
  if (start < 0 || start > template.length) return { code, message: text, start: null, end: null };
  let end = start + 1;
  if (template[start] === '{') {
    const close = template.indexOf('}', start);
    end = close === -1 ? template.length : close + 1;
  }
  return { code, message: text, start, end: Math.min(end, template.length) };
}
