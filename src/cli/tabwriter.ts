// Elastic tabstops as Go's text/tabwriter computes them (with docker's
// settings: space padding, no flags). Tables must line up exactly as docker's
// do, including the padding of empty cells and blocks broken by tab-less lines.
import { stringWidth } from './units.ts';

interface Cell {
  text: string;
  width: number;
  /** Terminated by a tab (else by the line end). */
  htab: boolean;
}

export class TabWriter {
  private lines: Cell[][] = [[]];
  private cell = '';
  private out = '';
  private widths: number[] = [];

  constructor(
    private readonly minwidth: number,
    private readonly padding: number,
  ) {}

  write(text: string): void {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch !== '\t' && ch !== '\n' && ch !== '\v' && ch !== '\f') continue;
      this.cell += text.slice(start, i);
      start = i + 1;
      const ncells = this.terminateCell(ch === '\t');
      if (ch === '\n' || ch === '\f') {
        this.lines.push([]);
        // a line with one cell ends the column block: flush what we have
        if (ch === '\f' || ncells === 1) this.format();
      }
    }
    this.cell += text.slice(start);
  }

  /** Formats everything written so far and returns the text. */
  flush(): string {
    if (this.cell.length > 0) this.terminateCell(false);
    this.format();
    const s = this.out;
    this.out = '';
    return s;
  }

  private terminateCell(htab: boolean): number {
    const line = this.lines[this.lines.length - 1]!;
    line.push({ text: this.cell, width: stringWidth(this.cell), htab });
    this.cell = '';
    return line.length;
  }

  private format(): void {
    this.formatRange(0, this.lines.length);
    this.lines = [[]];
    this.widths = [];
  }

  private formatRange(line0: number, line1: number): void {
    const column = this.widths.length;
    for (let cur = line0; cur < line1; cur++) {
      if (column >= this.lines[cur]!.length - 1) continue;
      // cur is the first line of a block with a cell in this column
      this.writeLines(line0, cur);
      line0 = cur;
      let width = this.minwidth;
      for (; cur < line1; cur++) {
        const line = this.lines[cur]!;
        if (column >= line.length - 1) break;
        const w = line[column]!.width + this.padding;
        if (w > width) width = w;
      }
      this.widths.push(width);
      this.formatRange(line0, cur);
      this.widths.pop();
      line0 = cur;
    }
    this.writeLines(line0, line1);
  }

  private writeLines(line0: number, line1: number): void {
    for (let i = line0; i < line1; i++) {
      const line = this.lines[i]!;
      line.forEach((c, j) => {
        this.out += c.text;
        if (j < this.widths.length) this.out += ' '.repeat(Math.max(0, this.widths[j]! - c.width));
      });
      // the last line is the current, incomplete one: no newline after it
      if (i + 1 === this.lines.length) this.out += this.cell;
      else this.out += '\n';
    }
  }
}

/** Runs text through a tab writer in one go. */
export function tabwrite(text: string, minwidth: number, padding: number): string {
  const tw = new TabWriter(minwidth, padding);
  tw.write(text);
  return tw.flush();
}
