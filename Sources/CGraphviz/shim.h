// Graphviz's C API as ModernCNN uses it: parse a DOT text, lay it out, render it. Everything
// goes through these wrappers so that Swift never touches the library's C globals (Swift 6
// rejects them as not concurrency-safe).
#include <graphviz/gvc.h>

/// Parses DOT text into a graph (NULL on a syntax error).
static inline Agraph_t *moderncnn_read_dot(const char *text) { return agmemread(text); }

/// Frees a graph made by moderncnn_read_dot.
static inline void moderncnn_close_graph(Agraph_t *graph) { agclose(graph); }
