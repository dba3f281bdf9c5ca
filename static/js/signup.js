// Live subdomain availability on the signup page.
(function () {
  const input = document.querySelector("input[name=subdomain]");
  const status = document.getElementById("subdomain-status");
  if (!input || !status) return;
  let timer;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    const value = input.value.trim();
    if (!value) { status.textContent = ""; return; }
    timer = setTimeout(async function () {
      const url = input.dataset.availabilityUrl + "?subdomain=" + encodeURIComponent(value);
      const answer = await (await fetch(url)).json();
      if (answer.subdomain !== input.value.trim()) return;
      status.textContent = answer.available ? "Available" : answer.reason;
      status.className = answer.available ? "ok" : "errorlist";
    }, 250);
  });
})();
