/**
 * The stdin commands of the `hold` tool that every `http-abort` server fixture answers (ours in
 * servers/supervised-http.ts, the plain node:http floor in servers/raw-http.ts), so both report
 * the same way: `{"cmd":"hold-stats"}` at once, `{"cmd":"wait-cancelled","count":N}` once N holds
 * were cancelled (polled every millisecond, bounded to 60 s), each with one `RESULT {stats}` line.
 *
 * @example
 * ```ts
 * serveMemoryCommands(() => 0, undefined, (command) => answerHoldCommand(command, () => hold.cancelled, holdStats));
 * ```
 */
export function answerHoldCommand(command: { cmd: string; count?: number }, cancelled: () => number, stats: () => Record<string, number>): void {
  const answer = (): void => {
    process.stdout.write(`RESULT ${JSON.stringify(stats())}\n`);
  };
  if (command.cmd === 'hold-stats') answer();
  else if (command.cmd === 'wait-cancelled') {
    const deadline = Date.now() + 60_000;
    const check = (): void => {
      if (cancelled() >= (command.count ?? 0) || Date.now() > deadline) answer();
      else setTimeout(check, 1);
    };
    check();
  }
}
