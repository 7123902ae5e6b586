// The always-visible legend: each view describes its sections, the legend draws them.
import { clear, h, add } from './dom.js';
import { t } from './i18n.js';

/** sections: [{title, items: [{colour, text, kind: 'fill'|'line'|'wline'|'dash'|'dot'}]}]
 *  ('wline' is a white line, drawn over a dark swatch so that it shows on the legend's white.) */
export function renderLegend(el, sections) {
  clear(el);
  add(el, h('h3', {}, t('legend.title')));
  for (const s of sections) {
    if (s.title) add(el, h('h3', {}, s.title));
    add(el, 
      h('ul', { class: s.title ? 'classes' : 'lines' }, s.items.map((i) => {
        const kind = i.kind || 'fill';
        const style = kind === 'fill' || kind === 'dot' ? `background:${i.colour}` : kind === 'wline' ? '' : `border-top-color:${i.colour}`;
        return h('li', {}, h('span', { class: `sw ${kind === 'fill' ? '' : kind}`, style, 'aria-hidden': 'true' }), i.text);
      })),
    );
  }
}
