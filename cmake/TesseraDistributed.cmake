# Finds what distributed training builds on: MPI for the mpi strategy (TESSERA_MPI) and NCCL
# for GPU all-reduce (TESSERA_NCCL). Sets TESSERA_HAVE_MPI and TESSERA_HAVE_NCCL; the
# imported targets are made here, at the top, so src/, tests/ and bench/ all see them.

set(TESSERA_HAVE_MPI OFF)
if(NOT TESSERA_MPI STREQUAL "OFF")
  if(TESSERA_MPI STREQUAL "ON")
    find_package(MPI REQUIRED COMPONENTS C)
  else()
    find_package(MPI QUIET COMPONENTS C)
  endif()
  if(MPI_C_FOUND)
    set(TESSERA_HAVE_MPI ON)
  endif()
endif()
message(STATUS "tessera: mpi strategy ${TESSERA_HAVE_MPI} (TESSERA_MPI=${TESSERA_MPI})")

# NCCL needs a CUDA build: TESSERA_HAVE_CUDA (set by TesseraCuda, included first).
set(TESSERA_HAVE_NCCL OFF)
if(NOT TESSERA_NCCL STREQUAL "OFF" AND TESSERA_HAVE_CUDA)
  find_package(CUDAToolkit QUIET)
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS /usr/local/cuda/include ${CUDAToolkit_INCLUDE_DIRS})
  find_library(NCCL_LIBRARY nccl HINTS /usr/local/cuda/lib64 ${CUDAToolkit_LIBRARY_DIR})
  if(CUDAToolkit_FOUND AND NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
    set(TESSERA_HAVE_NCCL ON)
    add_library(tessera_nccl_deps INTERFACE)
    target_include_directories(tessera_nccl_deps INTERFACE ${NCCL_INCLUDE_DIR})
    target_link_libraries(tessera_nccl_deps INTERFACE ${NCCL_LIBRARY} CUDA::cudart)
  elseif(TESSERA_NCCL STREQUAL "ON")
    message(FATAL_ERROR "TESSERA_NCCL=ON but NCCL (nccl.h, libnccl) or the CUDA toolkit was "
                        "not found")
  endif()
endif()
message(STATUS "tessera: NCCL communicator ${TESSERA_HAVE_NCCL} (TESSERA_NCCL=${TESSERA_NCCL})")
