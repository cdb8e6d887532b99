// Text from policies, paths and process names goes to a terminal only with its control
// characters made visible: a policy name or a file name could otherwise carry escape sequences
// (ESC, CSI 0x9b, OSC…) that rewrite the screen, set the title or worse. The one helper every
// human-readable output uses (the CLI, the audit log's text form, the daemon's log lines). JSON
// output is left to JSON.stringify, which writes every C0 control (ESC included) as \uXXXX.

// C0 controls (tab and newline included: one record, one line), DEL, C1 controls; and Unicode's
// bidirectional formatting characters (ALM, LRM, RLM, the embeddings and overrides U+202A-U+202E,
// the isolates U+2066-U+2069), which reorder what the terminal shows: a file name ending in
// U+202E displays its extension reversed ("Trojan Source", CVE-2021-42574).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `s` with every control character written as \xHH (bidirectional formatting characters as
 * \uHHHH), except those in `keep` (e.g. '\n' for a multi-line report, '\n\t' for a policy line
 * shown with a caret under it).
 */
export function terminalSafe(s: string, keep = ''): string {
  return s.replace(CONTROL, (c) => {
    if (keep.includes(c)) return c;
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`;
  });
}
