(() => {
  const results = document.getElementById("results");
  const more = document.getElementById("load-more");
  const config = JSON.parse(results.dataset.config);
  let page = 0, loading = false, done = false, scrollLoads = 0;

  function card(item) {
    const paper = item.paper || {};
    const href = paper.id ? "/papers/" + paper.id : "#";
    const article = document.createElement("article");
    article.className = "relative flex flex-col overflow-hidden rounded-xl border";
    const box = document.createElement("div");
    box.className = "leading-none";
    box.textContent = paper.upvotes === undefined || paper.upvotes === null ? "-" : String(paper.upvotes);
    const h3 = document.createElement("h3");
    const link = document.createElement("a");
    link.href = href;
    link.textContent = (item.title || paper.title || "").split(/\s+/).filter(Boolean).join(" ");
    h3.appendChild(link);
    const abstract = document.createElement("a");
    abstract.href = href;
    abstract.textContent = (paper.summary || "").split(/\s+/).filter(Boolean).join(" ");
    const comments = document.createElement("a");
    comments.href = href + "#community";
    comments.textContent = String(item.numComments || 0);
    article.append(box, h3, abstract, comments);
    return article;
  }

  async function load() {
    if (loading || done) return;
    loading = true;
    const url = config.source + (config.source.includes("?") ? "&" : "?") +
      "q=" + encodeURIComponent(config.q) + "&p=" + page + "&limit=" + config.pageSize;
    const response = await fetch(url, { headers: { "X-Replica-Page": "1" } });
    const items = response.ok ? await response.json() : [];
    for (const item of items) results.appendChild(card(item));
    page += 1;
    done = items.length < config.pageSize;
    more.hidden = done;
    if (done) results.setAttribute("data-list-end", "true");
    loading = false;
  }

  window.addEventListener("scroll", () => {
    // Infinite scroll for the first two extra pages, then only the button loads more.
    if (scrollLoads < 2 && window.innerHeight + window.scrollY >= document.body.scrollHeight - 50) {
      scrollLoads += 1;
      load();
    }
  });
  more.addEventListener("click", load);
  load();
})();
