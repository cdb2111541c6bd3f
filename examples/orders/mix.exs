defmodule Orders.MixProject do
  use Mix.Project

  # A durable function (docs/durable.md): run it locally with
  #   mix lambda.durable --data '{"order_id": 7, "items": [{"sku": "a", "price": 2}]}'
  def project do
    [
      app: :orders,
      version: "0.1.0",
      elixir: "~> 1.14",
      deps: [{:lambda_runtime, path: "../.."}],
      lambda: [handler: "Orders", timeout: 30]
    ]
  end

  def application, do: [extra_applications: [:logger]]
end
