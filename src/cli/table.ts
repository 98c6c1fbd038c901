/** Plain-text table for CLI output: columns padded to their widest cell, numeric ones right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], numericColumns: ReadonlySet<number>): string[] {
  const widths = header.map((title, column) => rows.reduce((widest, cells) => Math.max(widest, cells[column].length), title.length));
  const format = (cells: readonly string[]): string =>
    cells.map((cell, column) => (numericColumns.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join('  ').trimEnd();
  return [format(header), ...rows.map(format)];
}
