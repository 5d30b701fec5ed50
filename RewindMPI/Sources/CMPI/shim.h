// Open MPI's handles are macros that Swift cannot import (`MPI_COMM_WORLD` is
// `((MPI_Comm) &ompi_mpi_comm_world)`); these functions return them.
#ifndef REWIND_MPI_SHIM_H
#define REWIND_MPI_SHIM_H
#include <mpi.h>

static inline MPI_Comm rewind_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype rewind_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype rewind_mpi_char(void) { return MPI_CHAR; }
static inline MPI_Datatype rewind_mpi_int(void) { return MPI_INT; }
static inline MPI_Op rewind_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op rewind_mpi_max(void) { return MPI_MAX; }
static inline MPI_Status *rewind_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline int rewind_mpi_success(void) { return MPI_SUCCESS; }

#endif
