// Types of dom.js's h() and fill() that JSDoc cannot write: a child may be a list of children, nested.
export type Child = Node | string | number | boolean | null | undefined | readonly Child[];
