/**
 * POSIX sh quoting for the command lines the extension writes (the `claude` shim, Claude Code's statusLine command),
 * and its inverse for reading back a command line it wrote. Pure, no `vscode`: the status line bridge bundles it.
 */

/** Single-quoted for sh: the value can hold anything but a single quote, which is closed, escaped and reopened. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The words of a command line made of `shellQuote`d and plain words separated by spaces, as sh reads them: quotes
 * removed, `\x` taken as `x`. Undefined for anything sh would read otherwise (an unclosed quote, double quotes,
 * expansions, operators), so only a command line this module could have written is read back.
 */
export function shellWords(command: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < command.length; i++) {
    const char = command[i]!;
    if (char === ' ') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (char === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) return undefined;
      word = (word ?? '') + command.slice(i + 1, end);
      i = end;
    } else if (char === '\\' && i + 1 < command.length) {
      word = (word ?? '') + command[++i];
    } else if (/[A-Za-z0-9_=.,:/@%+-]/.test(char)) {
      word = (word ?? '') + char;
    } else {
      return undefined;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}
