[
  inputs: [
    "{mix,.formatter}.exs",
    "{config,lib,mix,test,bench}/**/*.{ex,exs}",
    "examples/*/{mix,.formatter}.exs",
    "examples/*/{lib,test}/**/*.{ex,exs}"
  ]
]
