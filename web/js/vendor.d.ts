// Types of what the pages load from /ui/vendor (served from node_modules): uPlot's own declarations.
declare module '*/uplot/uPlot.esm.js' {
  import uPlot from 'uplot';
  export default uPlot;
}
