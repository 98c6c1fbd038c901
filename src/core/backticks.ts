/** The longest run of backticks in `text` (0 if none): a Markdown fence or code span must be longer. */
export function longestBacktickRun(text: string): number {
  let longest = 0;
  let run = 0;
  // A loop, not Math.max(...runs): a spread of 100,000+ runs overflows the call stack.
  for (let index = 0; index < text.length; index++) {
    if (text.charCodeAt(index) === 96) {
      run++;
      if (run > longest) longest = run;
    } else {
      run = 0;
    }
  }
  return longest;
}
