extension HTMLReportWriter {
    /// The page's only style sheet: system fonts, a light card layout, a pure-CSS
    /// linear/log toggle, and print rules (white background, both scales, no page
    /// breaks inside a chart). Must not contain `<` or `&` (the page is also XML).
    static let styleSheet = """

    :root { --ink: #1d2433; --muted: #5b6474; --line: #e2e5ea; --grid: #eceef1; --axis: #8a93a3;
      --page: #f4f5f7; --card: #ffffff; --accent: #1f5fbf; }
    * { box-sizing: border-box; }
    html { -webkit-text-size-adjust: 100%; }
    body { margin: 0; background: var(--page); color: var(--ink);
      font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
    .page { max-width: 1220px; margin: 0 auto; padding: 28px 22px 40px; }
    .report-header { margin-bottom: 18px; }
    h1 { font-size: 27px; line-height: 1.2; margin: 0 0 4px; letter-spacing: -0.01em; }
    h2 { font-size: 17px; margin: 0 0 2px; }
    .subtitle { color: var(--muted); font-size: 15px; margin: 0 0 14px; }
    dl.parameters { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 6px 18px;
      margin: 0 0 14px; padding: 12px 16px; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
    dl.parameters div { min-width: 0; }
    dl.parameters dt { color: var(--muted); font-size: 11.5px; text-transform: uppercase; letter-spacing: 0.04em; }
    dl.parameters dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
    nav.toc { display: flex; flex-wrap: wrap; gap: 6px; }
    nav.toc a { color: var(--accent); text-decoration: none; font-size: 13px; padding: 3px 10px;
      border: 1px solid var(--line); border-radius: 999px; background: var(--card); }
    .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 16px 18px 14px;
      margin: 0 0 18px; break-inside: avoid; page-break-inside: avoid; }
    .group { margin: 0 0 18px; }
    .group > h2 { margin-top: 4px; }
    .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 18px; }
    .grid .card { margin: 0; }
    figure { margin: 0; }
    figcaption { font-weight: 600; margin-bottom: 4px; overflow-wrap: anywhere; }
    .caption { color: var(--muted); font-size: 12.5px; margin: 0 0 8px; }
    .card .caption:last-child { margin: 6px 0 0; }
    svg.chart { display: block; width: 100%; height: auto; overflow: visible; }
    svg.chart text { font-size: 11px; fill: #4d5666; font-variant-numeric: tabular-nums; }
    svg.chart .grid { stroke: var(--grid); stroke-width: 1; fill: none; }
    svg.chart .frame { stroke: var(--axis); stroke-width: 1; fill: none; }
    svg.chart .reference { stroke: #9aa3b1; stroke-width: 1; fill: none; }
    svg.chart .reference.dashed { stroke-dasharray: 4 3; }
    svg.chart .line { fill: none; stroke-width: 1.6; stroke-linejoin: round; stroke-linecap: round;
      vector-effect: non-scaling-stroke; }
    svg.chart .band { stroke: #ffffff; stroke-width: 0.3; stroke-opacity: 0.45; }
    svg.chart .bars { fill: none; stroke-linecap: butt; }
    svg.chart .marker { stroke: #ffffff; stroke-width: 1.2; }
    .legend { list-style: none; display: flex; flex-wrap: wrap; gap: 3px 16px; margin: 6px 0 8px; padding: 0;
      font-size: 12.5px; }
    .legend li { display: inline-flex; align-items: center; overflow-wrap: anywhere; }
    .legend.compact { font-size: 11.5px; gap: 2px 12px; margin: 6px 0 0; }
    .legend .role { color: var(--muted); font-size: 11px; margin-left: 4px; }
    .swatch { display: inline-block; flex: none; width: 22px; height: 0; border-top: 3px solid; margin-right: 6px; }
    .swatch.area { width: 11px; height: 11px; border: 0; border-radius: 2px; }
    .scale-toggle { position: relative; }
    .scale-toggle input { position: absolute; opacity: 0; pointer-events: none; }
    .scale-toggle label { display: inline-block; font-size: 12px; padding: 2px 12px; margin: 0 4px 6px 0;
      border: 1px solid var(--line); border-radius: 999px; cursor: pointer; color: var(--muted); }
    .scale-toggle input:checked + label { background: var(--accent); border-color: var(--accent); color: #ffffff; }
    .scale-toggle input:focus-visible + label { outline: 2px solid var(--accent); outline-offset: 1px; }
    .scale-panel { display: none; }
    #equity-scale-linear:checked ~ .scale-panel-linear, #equity-scale-log:checked ~ .scale-panel-log { display: block; }
    .table-wrap { overflow-x: auto; margin: 0 0 14px; }
    table.metrics { border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums; }
    table.metrics caption { text-align: left; font-weight: 600; padding: 0 0 6px; }
    table.metrics th, table.metrics td { padding: 5px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
    table.metrics thead th { text-align: right; color: var(--muted); font-weight: 600; font-size: 12px;
      border-bottom: 2px solid #cfd4db; }
    table.metrics thead th:first-child, table.metrics tbody th { text-align: left; }
    table.metrics tbody th { font-weight: 600; }
    table.metrics td.num { text-align: right; }
    table.metrics td.text { text-align: right; color: var(--muted); }
    table.metrics td.neg { color: #b42318; }
    table.metrics tbody tr:nth-child(even) { background: #f9fafb; }
    .card p { margin: 0 0 8px; }
    footer.methodology { color: var(--muted); font-size: 12.5px; border-top: 1px solid var(--line); padding-top: 12px; }
    footer.methodology h2 { font-size: 13px; color: var(--ink); }
    @media (max-width: 640px) { .page { padding: 16px 10px; } .grid { grid-template-columns: 1fr; } }
    @media print {
      body { background: #ffffff; font-size: 11px; }
      .page { max-width: none; padding: 0; }
      nav.toc, .scale-toggle input, .scale-toggle label { display: none; }
      .scale-panel { display: block; }
      .card { border-color: #cccccc; }
      .grid { grid-template-columns: 1fr 1fr; }
      table.metrics tbody tr:nth-child(even) { background: none; }
    }

    """
}
