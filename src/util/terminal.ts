// Text from policies, paths and process names goes to a terminal only with its control
// characters made visible: a policy name or a file name could otherwise carry escape sequences
// (ESC, CSI 0x9b, OSC…) that rewrite the screen, set the title or worse. The one helper every
// human-readable output uses (the CLI, the audit log's text form, the daemon's log lines). JSON
// output is left to JSON.stringify, which writes every C0 control (ESC included) as \uXXXX.

// C0 controls (tab and newline included: one record, one line), DEL, C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * `s` with every control character written as \xHH, except those in `keep` (e.g. '\n' for a
 * multi-line report, '\n\t' for a policy line shown with a caret under it).
 */
export function terminalSafe(s: string, keep = ''): string {
  return s.replace(CONTROL, (c) => (keep.includes(c) ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
