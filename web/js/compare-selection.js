// Ticking runs for /ui/compare: the 2-8 limit, the page's address, and the Compare action shared by the runs list and sweep page.
// @ts-check
import { h } from './dom.js';

export const COMPARE_MIN = 2;
export const COMPARE_MAX = 8;

/** @param {string[]} ids */
export const compareHref = (ids) => `/ui/compare?runs=${ids.map(encodeURIComponent).join(',')}`;

/** The ticked run ids, in the order they were ticked (the compare page's column order). */
export class CompareSelection {
  /** @param {() => void} onChange called after every tick or untick, so the page can re-render */
  constructor(onChange) {
    /** @type {Set<string>} */
    this.ids = new Set();
    this.onChange = onChange;
  }

  /**
   * A checkbox for one run; unticked boxes are disabled once COMPARE_MAX runs are ticked.
   * @param {string} runId
   * @param {string} label
   */
  checkbox(runId, label) {
    const checked = this.ids.has(runId);
    const box = h('input', {
      type: 'checkbox',
      class: 'compare-tick',
      'aria-label': `compare ${label}`,
      checked,
      disabled: !checked && this.ids.size >= COMPARE_MAX,
      onchange: () => {
        if (box.checked) this.ids.add(runId);
        else this.ids.delete(runId);
        this.onChange();
      },
    });
    return box;
  }

  /** The Compare action: a link to the compare page once 2-8 runs are ticked, else a disabled hint. */
  link() {
    const ids = [...this.ids];
    const ok = ids.length >= COMPARE_MIN && ids.length <= COMPARE_MAX;
    return h(
      'a',
      {
        class: 'button',
        id: 'compare-selected',
        href: ok ? compareHref(ids) : null,
        'aria-disabled': ok ? null : 'true',
      },
      ok ? `Compare ${ids.length} runs` : `Tick ${COMPARE_MIN} to ${COMPARE_MAX} runs to compare`,
    );
  }
}
