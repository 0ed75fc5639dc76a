// Builds index.js into build/bundle.js, and copies each extension's settings schemas and themes
// into build/ (@jupyterlab/builder's ensureAssets), as jupyterlab's examples/app does.
const crypto = require("crypto");
const path = require("path");
const webpack = require("webpack");
const { Build } = require("@jupyterlab/builder");
const data = require("./package.json");

// This webpack's loaders ask for md4, which current OpenSSL refuses; sha256 does the same job here.
const createHash = crypto.createHash;
crypto.createHash = (algorithm) => createHash(algorithm === "md4" ? "sha256" : algorithm);

const assets = Build.ensureAssets({ packageNames: data.jupyterlab.extensions, output: "./build", hashFunction: "sha256" });

module.exports = [
  {
    entry: ["whatwg-fetch", "./index.js"],
    output: { path: path.join(__dirname, "build"), filename: "bundle.js", hashFunction: "sha256" },
    bail: true,
    module: {
      rules: [
        { test: /\.css$/, use: ["style-loader", "css-loader"] },
        { test: /\.html$/, use: "file-loader" },
        { test: /\.md$/, use: "raw-loader" },
        { test: /\.(jpg|png|gif)$/, use: "file-loader" },
        { test: /\.js.map$/, use: "file-loader" },
        { test: /\.(woff2?|ttf)(\?v=\d+\.\d+\.\d+)?$/, use: "url-loader?limit=10000" },
        { test: /\.eot(\?v=\d+\.\d+\.\d+)?$/, use: "file-loader" },
        // In CSS, svg becomes a data URI; in JavaScript, a string.
        { test: /\.svg(\?v=\d+\.\d+\.\d+)?$/, issuer: /\.css$/, use: { loader: "svg-url-loader", options: { encoding: "none", limit: 10000 } } },
        { test: /\.svg(\?v=\d+\.\d+\.\d+)?$/, issuer: /\.js$/, use: { loader: "raw-loader" } },
      ],
    },
    plugins: [new webpack.DefinePlugin({ "process.env": "{}", process: { cwd: () => "/" } })],
  },
].concat(assets);
