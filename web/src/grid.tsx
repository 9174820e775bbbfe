import type { ComponentChildren, VNode } from "preact";
import { VirtualList } from "./virtual_list.js";
import { onEnter } from "./widgets.js";

/*
 * A node x column grid of statuses (a batch's node x check, the checks
 * view's node x schedule/check): virtualised rows, each cell a focusable
 * coloured status word that selects itself on click or Enter.
 */

export interface GridCell {
  /** pass, fixed, fail, error, warn, pending, unreachable, rejected... (class st-<status>). */
  status: string;
  /** The text shown (default: the status). */
  text?: string;
}

interface Props {
  label: string;
  nodes: string[];
  columns: string[];
  cell: (node: string, column: string) => GridCell;
  selected?: { node: string; column: string };
  onSelect: (node: string, column: string) => void;
  /** Extra content after the node's name (e.g. a row's reason). */
  nodeNote?: (node: string) => ComponentChildren;
}

const ROW_PX = 34;
const NODE_COL_PX = 200;
const CELL_PX = 110;

export function StatusGrid(p: Props): VNode {
  const template = { gridTemplateColumns: `${NODE_COL_PX}px repeat(${Math.max(p.columns.length, 1)}, ${CELL_PX}px)` };
  return (
    <VirtualList
      label={p.label}
      class="grid-list"
      count={p.nodes.length}
      rowHeight={ROW_PX}
      minWidth={NODE_COL_PX + CELL_PX * Math.max(p.columns.length, 1)}
      rowKey={(i) => p.nodes[i]}
      header={
        <div class="row head" role="row" style={template}>
          <span role="columnheader">Node</span>
          {p.columns.map((c) => (
            <span role="columnheader" key={c} title={c} class="colhead">
              {c}
            </span>
          ))}
        </div>
      }
      row={(i) => {
        const node = p.nodes[i];
        return (
          <div class="row" role="row" data-grid-node={node} style={template}>
            <span role="rowheader" class="name" title={node}>
              {node}
              {p.nodeNote?.(node)}
            </span>
            {p.columns.map((c) => {
              const cell = p.cell(node, c);
              const sel = p.selected?.node === node && p.selected.column === c;
              const pick = (): void => p.onSelect(node, c);
              return (
                <span
                  key={c}
                  role="cell"
                  tabindex={0}
                  class={`cell st-${cell.status}${sel ? " selected" : ""}`}
                  data-cell-status={cell.status}
                  data-check={c}
                  aria-label={`${node} ${c}: ${cell.text ?? cell.status}`}
                  onClick={pick}
                  onKeyDown={onEnter(pick)}
                >
                  {cell.text ?? cell.status}
                </span>
              );
            })}
          </div>
        );
      }}
    />
  );
}
