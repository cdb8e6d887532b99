// Text from policies, paths and process names goes to a terminal only with its control
// characters made visible: a policy name or a file name could otherwise carry escape sequences
// (ESC, CSI 0x9b, OSC…) that rewrite the screen, set the title or worse.

// C0 controls (tab and newline included: one record, one line), DEL, C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

export function terminalSafe(s: string, keepNewlines = false): string {
  return s.replace(CONTROL, (c) => (keepNewlines && c === '\n' ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
