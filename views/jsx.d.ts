// Attribute names of htmx 4 (with its `:inherited` modifiers) and data-* attributes.
import "@kitajs/html";

declare global {
  namespace JSX {
    interface HtmlTag {
      [attr: `hx-${string}`]: string | boolean | undefined;
      [attr: `data-${string}`]: string | number | boolean | undefined;
      [attr: `aria-${string}`]: string | number | boolean | undefined;
    }
  }
}
