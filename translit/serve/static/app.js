// The page of `translit serve`: translates as you type (debounced), shows the n-best list with
// scores and, for attention models, a heatmap; for character-level models each word's
// alternatives are clickable and replace the word.
"use strict";

const source = document.getElementById("source");
const output = document.getElementById("output");
const statusLine = document.getElementById("status");
const keyBox = document.getElementById("key-box");
const keyInput = document.getElementById("api-key");
const DEBOUNCE_MS = 250;
let model = null;   // {name, beam_size, has_attention, charLevel}
let timer = null;
let sequence = 0;   // answers to older requests are dropped

function headers() {
  const h = {"Content-Type": "application/json"};
  const key = keyInput.value || sessionStorage.getItem("translit-key");
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

async function call(path, body) {
  const response = await fetch(path, body === undefined ? {headers: headers()} :
    {method: "POST", headers: headers(), body: JSON.stringify(body)});
  const answer = await response.json();
  if (response.status === 401) keyBox.hidden = false;
  if (!response.ok) throw new Error(answer.error + (answer.field ? " (" + answer.field + ")" : ""));
  return answer;
}

async function loadModel() {
  try {
    const names = await call("/v1/models");
    const info = await call("/v1/models/" + encodeURIComponent(names.models[0]));
    const recipe = info.models[0].recipe || {};
    model = {name: info.name, beam_size: info.beam_size, has_attention: info.has_attention,
             charLevel: (recipe.tokenizer || {}).type === "char"};
    document.getElementById("model-info").textContent =
      `${info.name} · ${info.kind} · beam ${info.beam_size}` +
      (model.charLevel ? " · character level" : "") + (model.has_attention ? " · attention" : "");
    document.getElementById("mode-hint").textContent = model.charLevel ?
      "(words separated by spaces; click a word for its alternatives)" : "(one sentence per line)";
    statusLine.textContent = "";
    if (source.value.trim()) translate();
  } catch (error) {
    statusLine.textContent = "Cannot load the model: " + error.message;
  }
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(translate, DEBOUNCE_MS);
}

async function translate() {
  if (!model) return;
  const mine = ++sequence;
  const texts = model.charLevel ? source.value.split(/\s+/).filter(Boolean) :
    source.value.split("\n").filter(line => line.trim());
  if (!texts.length) { output.replaceChildren(); return; }
  const request = {texts, n_best: Math.min(model.beam_size, 5)};
  if (model.has_attention && !model.charLevel) request.attention = true;
  try {
    const answer = await call("/v1/translate", request);
    if (mine !== sequence) return;
    statusLine.textContent = "";
    if (model.charLevel) showWords(answer); else showSentences(texts, answer);
  } catch (error) {
    if (mine === sequence) statusLine.textContent = error.message;
  }
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function nBestTable(translations, scores) {
  const table = element("table", "nbest");
  translations.forEach((text, i) => {
    const row = table.insertRow();
    row.appendChild(element("td", "rank", String(i + 1)));
    row.appendChild(element("td", "text", text));
    row.appendChild(element("td", "score", scores[i].toFixed(3)));
  });
  return table;
}

function showSentences(texts, answer) {
  output.replaceChildren(...texts.map((text, i) => {
    const box = element("div", "line");
    box.appendChild(element("p", "translation", answer.translations[i][0]));
    box.appendChild(nBestTable(answer.translations[i], answer.scores[i]));
    if (answer.attention && answer.attention[i]) box.appendChild(heatmap(answer.attention[i]));
    return box;
  }));
}

function showWords(answer) {
  const box = element("div", "line");
  const sentence = element("p", "translation");
  const choices = element("ul", "alternatives");
  answer.translations.forEach((alternatives, i) => {
    const word = element("span", "word", alternatives[0]);
    word.addEventListener("click", () => {
      sentence.querySelectorAll(".word").forEach(w => w.classList.remove("open"));
      word.classList.add("open");
      choices.replaceChildren(...alternatives.map((text, k) => {
        const item = element("li");
        const button = element("button", "", text);
        button.appendChild(element("small", "", " " + answer.scores[i][k].toFixed(2)));
        button.addEventListener("click", () => { word.textContent = text; });
        item.appendChild(button);
        return item;
      }));
    });
    sentence.appendChild(word);
  });
  box.append(sentence, choices);
  output.replaceChildren(box);
}

function heatmap({weights, source: columns, target: rows}) {
  const cell = 22, left = 90, top = 100;
  const canvas = element("canvas", "attention");
  canvas.width = left + cell * columns.length;
  canvas.height = top + cell * rows.length;
  const g = canvas.getContext("2d");
  g.font = "12px system-ui, sans-serif";
  g.fillStyle = "#222";
  rows.forEach((piece, r) => g.fillText(piece, 2, top + cell * r + 15, left - 6));
  columns.forEach((piece, c) => {
    g.save();
    g.translate(left + cell * c + 15, top - 4);
    g.rotate(-Math.PI / 3);
    g.fillText(piece, 0, 0, top);
    g.restore();
  });
  weights.forEach((row, r) => row.forEach((w, c) => {
    const shade = Math.round(255 * (1 - w));
    g.fillStyle = `rgb(${shade}, ${shade}, 255)`;
    g.fillRect(left + cell * c, top + cell * r, cell - 1, cell - 1);
  }));
  return canvas;
}

source.addEventListener("input", schedule);
keyInput.addEventListener("change", () => {
  sessionStorage.setItem("translit-key", keyInput.value);
  loadModel();
});
loadModel();
