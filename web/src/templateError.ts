// template-svc names the offending placeholder and its position ("body.base_template: unknown placeholder {nmae}
// at position 3; known fields: ..."): find the span it names, so the form can mark it inside the template.

export interface TemplateProblem {
  message: string;
  /** Where the problem starts in the template, when the message names a position. */
  start: number | null;
  /** Where it ends (exclusive): the whole placeholder when one is named, else one character. */
  end: number | null;
}

const FIELD_PREFIX = /^(?:body\.)?(?:base_template|override_template|template):\s*/;

export function locateTemplateProblem(template: string, message: string): TemplateProblem {
  const text = message.replace(FIELD_PREFIX, '').replace(/^invalid template:\s*/, '');
  const position = /at position (\d+)/.exec(text);
  if (position?.[1] === undefined) return { message: text, start: null, end: null };
  const start = Number(position[1]);
  if (start < 0 || start > template.length) return { message: text, start: null, end: null };
  let end = start + 1;
  if (template[start] === '{') {
    const close = template.indexOf('}', start);
    end = close === -1 ? template.length : close + 1;
  }
  return { message: text, start, end: Math.min(end, template.length) };
}
