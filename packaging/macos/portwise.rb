# Homebrew cask template for portwise (a tap's Casks/portwise.rb).
# For each release: set `version`, and `sha256` to the output of
#   shasum -a 256 portwise-<version>-macos.zip
# The zip holds portwise.app made by packaging/macos/make-app.sh from a
# universal binary (see that script), zipped with `ditto -c -k --keepParent`.
cask "portwise" do
  version "0.1.0"
  sha256 "REPLACE_WITH_THE_ZIP_SHA256"

  url "https://github.com/portwise/portwise/releases/download/v#{version}/portwise-#{version}-macos.zip"
  name "portwise"
  desc "See what holds your ports, why bind() fails, and how to fix it"
  homepage "https://github.com/portwise/portwise"

  depends_on macos: ">= :big_sur"

  app "portwise.app"
  # The command line: `portwise list`, `portwise free`, ... from a terminal.
  binary "#{appdir}/portwise.app/Contents/MacOS/portwise"

  # Settings the window saves (eframe's storage under the app id "portwise").
  zap trash: "~/Library/Application Support/portwise"
end
