"""Static files the way production serves them: hashed names, compressed copies."""

from whitenoise.storage import CompressedManifestStaticFilesStorage

# `import ... from "./x.js";` and `export ... from "./x.js";` at the start of a line: the
# statements this site's modules use to load one another. Comments never match.
MODULE_IMPORT = (
    r"""(?m)(?P<matched>^(?P<statement>(?:import|export)\b[^;"']*?\bfrom\s*)"""
    r"""["'](?P<url>\.{1,2}/[^"']+)["'];)"""
)


class ManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    # The room page's ES modules import one another: those imports name the hashed files
    # too, so after a deploy a browser never runs a fresh module next to one it cached
    # before. Only this site's own scripts (static/js/): Django's general rewriting of every
    # package's JavaScript trips over third-party files.
    patterns = (
        *CompressedManifestStaticFilesStorage.patterns,
        ("js/*.js", ((MODULE_IMPORT, '%(statement)s"%(url)s";'),)),
    )
    # Each pass settles one more level of imports (room.js, call-ui.js, presence.js, ...).
    max_post_process_passes = 10
